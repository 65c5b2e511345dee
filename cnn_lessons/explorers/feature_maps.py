"""The feature-map explorer (lesson 03): a trained network's maps per image and layer, every channel at once.

Picture: :func:`cnn_lessons.features.batch_activations` and :func:`channel_mosaic` (every channel of a layer as
one tiled array); view: :class:`FeatureMapView`; controls: :class:`FeatureMapExplorer`."""

from __future__ import annotations

import dataclasses
import math
from html import escape

import ipywidgets as widgets
import matplotlib
import matplotlib.figure
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle

from cnn_lessons import data, features, train
from cnn_lessons.drawing.images import ColorBar, framed, still_image
from cnn_lessons.drawing.style import COLORS, DIVERGING, colormap, format_number
from cnn_lessons.drawing.text import axes_title
from cnn_lessons.explorers._base import Explorer, slider

__all__ = [
    "ChannelMosaic",
    "channel_mosaic",
    "FeatureMapView",
    "FeatureMapExplorer",
]


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class ChannelMosaic:
    """Every channel of a (C, H, W) stack of maps as one array of tiles, row by row, as the explorer draws it.

    ``picture`` is (rows * (scale * H + gap) - gap, cols * (scale * W + gap) - gap), float32: channel ``c``'s
    map, each value repeated ``scale`` x ``scale`` times, fills the tile at ``origins[c]`` (its top-left
    (row, column) in the picture); the gaps between tiles and the tiles left over after the last channel
    are NaN (drawn as background). ``limit`` is max|maps| over all channels (the grid's one colour scale).
    """

    picture: np.ndarray
    rows: int
    cols: int
    scale: int
    tile: tuple[int, int]
    origins: tuple[tuple[int, int], ...]
    limit: float


def channel_mosaic(maps, *, min_tile: int = 8, gap: int = 1) -> ChannelMosaic:
    """The (C, H, W) ``maps`` tiled in a near-square grid of ``ceil(sqrt(C))`` columns (see :class:`ChannelMosaic`).

    Maps smaller than ``min_tile`` pixels are enlarged by a whole factor (nearest neighbour), so that a 2x2
    map's tile is not mostly gap."""
    maps = torch.as_tensor(maps).detach().cpu().float()
    if maps.ndim != 3 or 0 in maps.shape:
        raise ValueError(f"maps must be a non-empty stack (C, H, W) of feature maps, got shape {tuple(maps.shape)}")
    if min_tile < 1 or gap < 0:
        raise ValueError(f"min_tile must be at least 1 and gap at least 0, got min_tile={min_tile}, gap={gap}")
    channels, height, width = maps.shape
    cols = math.ceil(math.sqrt(channels))
    rows = math.ceil(channels / cols)
    scale = max(1, math.ceil(min_tile / min(height, width)))
    tile = (scale * height, scale * width)
    big = maps.repeat_interleave(scale, dim=1).repeat_interleave(scale, dim=2).numpy()
    picture = np.full((rows * (tile[0] + gap) - gap, cols * (tile[1] + gap) - gap), np.nan, dtype=np.float32)
    origins = tuple(((c // cols) * (tile[0] + gap), (c % cols) * (tile[1] + gap)) for c in range(channels))
    for c, (top, left) in enumerate(origins):
        picture[top : top + tile[0], left : left + tile[1]] = big[c]
    return ChannelMosaic(
        picture=picture,
        rows=rows,
        cols=cols,
        scale=scale,
        tile=tile,
        origins=origins,
        limit=float(maps.abs().max()),
    )


class FeatureMapView:
    """An input image, one channel of one layer's feature map enlarged with a colour bar, and every channel of
    that layer as a grid of small maps with the enlarged one outlined (as CNN Explainer shows a layer).

    The artists are made once; :meth:`update` changes them in place: the input picture, the map and the grid
    (``set_data``, ``set_clim``; extents and axes limits follow the sizes, so 8x8 and 4x4 maps, 32 or 64
    channels, all fill their panels), the outline (moved), the titles (``set_text``) and the colour bar. Maps
    are drawn on a diverging colormap centred on 0: white is 0 (a ReLU's "off"), red positive, blue negative
    (only a convolution's raw output has those). The enlarged map has limits +-max|map| of its channel; the
    grid one scale for the whole layer, +-max|layer|, so channels compare (a weak channel looks pale). A
    channel that is 0 everywhere is said so in its title.

    The input: one channel in grey (``gray_r``: high values dark, like ink on paper, on the image's own
    0..max scale, at least 0..1), three channels as RGB scaled to 0..1 together, more channels as their mean.
    """

    def __init__(self, fig: Figure, *, fontsize: float = 10):
        self.fig = fig
        side, grid, small, gap, top, bottom, left = 2.3, 2.6, 1.8, 0.55, 0.5, 0.12, 0.15
        widths = [left, small, gap, side, 0.1, 0.14, 0.55, grid, 0.15]
        width, height = sum(widths), side + top + bottom
        self.figsize = (width, height)
        if tuple(fig.get_size_inches()) != self.figsize:
            fig.set_size_inches(width, height)
        lefts = [sum(widths[:i]) for i in range(len(widths))]

        def axes(i, h=side):
            return fig.add_axes((lefts[i] / width, (bottom + (side - h) / 2) / height, widths[i] / width, h / height))

        self.ax_input, self.ax_map, self.ax_colorbar = axes(1, small), axes(3), axes(5)
        self.ax_grid = axes(7)
        self.input_image = still_image(self.ax_input, np.zeros((2, 2)), "gray_r", (0.0, 1.0))
        self.map_image = still_image(self.ax_map, np.zeros((2, 2)), DIVERGING, (-1.0, 1.0))
        background = colormap(DIVERGING).with_extremes(bad=COLORS["edge"])  # gaps and unused tiles: grey
        self.grid_image = still_image(self.ax_grid, np.zeros((2, 2)), background, (-1.0, 1.0))
        for ax in (self.ax_input, self.ax_map):
            framed(ax)
        self.ax_grid.set_axis_off()
        self.outline = Rectangle(
            (-0.5, -0.5), 1, 1, fill=False, edgecolor=COLORS["text"], linewidth=2.2, clip_on=False, zorder=5
        )
        self.ax_grid.add_patch(self.outline)
        self.input_title = axes_title(self.ax_input, "", fontsize, top)
        self.map_title = axes_title(self.ax_map, "", fontsize, top)
        self.grid_title = axes_title(self.ax_grid, "", fontsize, top)
        self.colorbar = ColorBar(self.ax_colorbar, self.map_image, fontsize=fontsize - 2)
        framed(self.ax_colorbar)
        self.mosaic: ChannelMosaic | None = None

    @staticmethod
    def _show_at_size(image: AxesImage, ax: Axes, height: int, width: int) -> None:
        """Pixel (r, c) of the data centred on (c, r), and the axes just around the picture."""
        extent = (-0.5, width - 0.5, height - 0.5, -0.5)
        if (ax.get_xlim(), ax.get_ylim()) != (extent[:2], extent[2:]):
            image.set_extent(extent)
            ax.set_xlim(extent[0], extent[1])
            ax.set_ylim(extent[2], extent[3])

    def update(
        self,
        image,
        feature_map,
        *,
        input_title: str = "",
        map_title: str = "",
        layer_maps=None,
        channel: int = 0,
        mosaic: ChannelMosaic | None = None,
    ) -> None:
        """Show ``image`` ((C, H, W) or (H, W)) and ``feature_map`` ((h, w), one channel), with these titles;
        and ``layer_maps`` (every channel, (C, h, w); default the one map) as a grid with ``channel`` outlined
        (``mosaic``: :func:`channel_mosaic` of ``layer_maps``, when the caller has it already)."""
        # long: the input, the enlarged map with its colour bar, then the grid and its outline, in place
        image = torch.as_tensor(image).detach().cpu().float()
        feature_map = torch.as_tensor(feature_map).detach().cpu().float()
        if feature_map.ndim != 2:
            raise ValueError(f"feature_map must be one channel, (h, w), got shape {tuple(feature_map.shape)}")
        if image.ndim == 2:
            image = image[None]
        if image.ndim != 3:
            raise ValueError(f"image must be (C, H, W) or (H, W), got shape {tuple(image.shape)}")
        if image.shape[0] == 3:
            low, high = float(image.min()), float(image.max())
            picture = ((image - low) / (high - low if high > low else 1.0)).permute(1, 2, 0)
            clim = (0.0, 1.0)
        else:
            picture = image[0] if image.shape[0] == 1 else image.mean(dim=0)
            clim = (min(0.0, float(picture.min())), max(1.0, float(picture.max())))
        self.input_image.set_data(picture.numpy())
        self.input_image.set_clim(*clim)
        self._show_at_size(self.input_image, self.ax_input, *picture.shape[:2])

        limit = float(feature_map.abs().max())
        self.map_image.set_data(feature_map.numpy())
        self.map_image.set_clim(-(limit or 1.0), limit or 1.0)
        self._show_at_size(self.map_image, self.ax_map, *feature_map.shape)
        self.colorbar.update()
        self.input_title.set_text(input_title)
        self.map_title.set_text(map_title + ("\n0 everywhere for this image" if limit == 0 else ""))

        if mosaic is None:
            mosaic = channel_mosaic(feature_map[None] if layer_maps is None else layer_maps)
        if not 0 <= channel < len(mosaic.origins):
            raise ValueError(f"channel must be between 0 and {len(mosaic.origins) - 1}, got {channel}")
        if mosaic is not self.mosaic:  # (its NaN gaps never compare equal: set_data alone would redraw it)
            self.grid_image.set_data(mosaic.picture)
            self.mosaic = mosaic
        self.grid_image.set_clim(-(mosaic.limit or 1.0), mosaic.limit or 1.0)
        self._show_at_size(self.grid_image, self.ax_grid, *mosaic.picture.shape)
        top, left = mosaic.origins[channel]
        self.outline.set_bounds(left - 1, top - 1, mosaic.tile[1] + 1, mosaic.tile[0] + 1)
        self.grid_title.set_text(f"all {len(mosaic.origins)} channels, one scale: \u00b1{format_number(mosaic.limit)}")

    def shown(self) -> np.ndarray:
        """The feature map on show, read back from its image."""
        return np.asarray(self.map_image.get_array())

    def tile(self, channel: int) -> np.ndarray:
        """Channel ``channel``'s tile of the grid on show, read back from the grid's image (at the grid's scale)."""
        top, left = self.mosaic.origins[channel]
        height, width = self.mosaic.tile
        return np.asarray(self.grid_image.get_array())[top : top + height, left : left + width]

    def outlined(self) -> tuple[int, int, int, int]:
        """The grid cell the outline surrounds: (top, left, height, width) in the grid's pixels."""
        x, y = self.outline.get_xy()
        return round(y + 1), round(x + 1), round(self.outline.get_height() - 1), round(self.outline.get_width() - 1)


class FeatureMapExplorer(Explorer):
    """What a network computes inside: pick an image and a layer, see all its channels' feature maps at once as
    a grid, and the chosen channel enlarged (and outlined in the grid).

    ``model``: a trained network (e.g. :func:`cnn_lessons.train.train_digits_cnn`'s); ``images``: a batch
    (N, C, H, W) (or (N, H, W)) to choose from; ``labels``: their classes, shown when given; ``layers``:
    layer names (default: every layer whose output is a feature map, see
    :func:`cnn_lessons.features.activations`).

    Controls: ``image`` (IntSlider, the index into ``images``), ``layer`` (SelectionSlider over the layer
    names, in the order they run) and ``channel`` (IntSlider; its maximum follows the chosen layer's channel
    count, and a channel beyond it is moved to the last one). ``readout`` (HTML) names the layer, its shape
    and the channel, and the predicted class. Each image's maps are computed once, with a chunk of its
    neighbours in one forward pass (:func:`cnn_lessons.features.batch_activations`, see :meth:`activations`),
    and kept, as is each (image, layer)'s grid (:meth:`mosaic`); the canvas shows :class:`FeatureMapView`,
    updated in place: a channel step only redraws the enlarged map and moves the outline.
    """

    @classmethod
    def example(cls, count: int = 20):
        """The lesson's digits network, freshly initialised (untrained, seed 0), on the first ``count`` test
        digits: the same shapes and work as the lesson's explorer, without training first."""
        _, _, images, labels = data.load_digits_split()
        return cls(train.digits_cnn(seed=0), images[:count], labels[:count])

    def __init__(
        self, model, images, labels=None, *, layers=None, image: int = 0, layer: str | None = None, channel: int = 0
    ):
        images = torch.as_tensor(images)
        if images.ndim == 3:
            images = images[:, None]
        if images.ndim != 4 or len(images) == 0:
            raise ValueError(f"images must be a non-empty batch (N, C, H, W) or (N, H, W), got {tuple(images.shape)}")
        if labels is not None:
            labels = torch.as_tensor(labels)
            if labels.shape != images.shape[:1]:
                raise ValueError(f"labels must give one class per image: {len(images)} images, labels {labels.shape}")
        if not 0 <= image < len(images):
            raise ValueError(f"image must be an index from 0 to {len(images) - 1}, got {image}")
        self.model, self.images, self.labels, self.layers = model, images, labels, layers
        self._computed: dict[int, features.Activations] = {}
        self._mosaics: dict[tuple[int, str], ChannelMosaic] = {}
        names = list(self.activations(image).maps)
        if not names:
            raise ValueError("the model has no layer whose output is a feature map (N, C, H, W)")
        layer = names[0] if layer is None else layer
        if layer not in names:
            raise ValueError(f"layer must be one of {names}, got {layer!r}")

        self.image = slider("image", image, 0, len(images) - 1, width="300px")
        self.layer = widgets.SelectionSlider(
            options=names,
            value=layer,
            description="layer",
            continuous_update=True,
            style={"description_width": "40px"},
            layout=widgets.Layout(width="300px"),
        )
        channels = self.activations(image).maps[layer].shape[0]
        self.channel = slider("channel", min(channel, channels - 1), 0, channels - 1, width="280px")
        self.readout = widgets.HTML(layout=widgets.Layout(margin="0 0 0 10px"))

        fig = matplotlib.figure.Figure(dpi=100)
        self.view = FeatureMapView(fig)
        self._show(fig, widgets.HBox([self.image, self.layer, self.channel]), self.readout)
        self.update()
        self._watch(self.controls())

    def controls(self) -> list[widgets.ValueWidget]:
        """The controls: image, layer, channel."""
        return [self.image, self.layer, self.channel]

    CHUNK_BYTES = 32 * 2**20
    """About how much memory one forward pass's maps may take when images are computed in chunks."""

    def activations(self, index: int | None = None) -> features.Activations:
        """The maps and logits of image ``index`` (default: the one shown), computed once per image.

        The first image asked for runs alone; then images are computed in chunks of neighbours (as many as
        fit in :attr:`CHUNK_BYTES`, at most 64), one forward pass each, so that moving the image slider rarely
        waits for the model: most steps only look their maps up.
        """
        index = self.image.value if index is None else index
        if index not in self._computed:
            if not self._computed:
                self._computed[index] = features.activations(self.model, self.images[index], self.layers)
            else:
                first = next(iter(self._computed.values()))
                size = sum(m.numel() * m.element_size() for m in first.maps.values()) or 1
                chunk = max(1, min(64, self.CHUNK_BYTES // size))
                start = index - index % chunk
                wanted = [i for i in range(start, min(start + chunk, len(self.images))) if i not in self._computed]
                found = features.batch_activations(self.model, self.images[wanted], self.layers)
                self._computed.update(zip(wanted, found, strict=True))
        return self._computed[index]

    def feature_map(self) -> torch.Tensor:
        """The (H, W) map shown now: channel ``channel`` of layer ``layer`` for image ``image``."""
        return self.activations().maps[self.layer.value][self.channel.value]

    def _titles(self) -> tuple[str, str, str]:
        index, name, channel = self.image.value, self.layer.value, self.channel.value
        found = self.activations()
        channels, height, width = found.maps[name].shape
        predicted = int(found.logits.argmax())
        label = "" if self.labels is None else f"label {int(self.labels[index])}, "
        input_title = f"image {index}: {label}predicted {predicted}"
        map_title = f"{name}, channel {channel} (of 0\u2013{channels - 1}): {height}\u00d7{width}"
        readout = (
            f"<b>{escape(name)}</b>: {channels} channels of {height}\u00d7{width} (output shape "
            f"{channels}\u00d7{height}\u00d7{width}); showing channel <b>{channel}</b> (0 to {channels - 1}), "
            "enlarged and outlined in the grid of all channels "
            f"| image {index}: {label}predicted <b>{predicted}</b>"
        )
        return input_title, map_title, readout

    def mosaic(self) -> ChannelMosaic:
        """Every channel of the chosen layer for the chosen image as one grid (:func:`channel_mosaic`), made once."""
        key = (self.image.value, self.layer.value)
        if key not in self._mosaics:
            if len(self._mosaics) > 256:
                self._mosaics.clear()
            self._mosaics[key] = channel_mosaic(self.activations().maps[self.layer.value])
        return self._mosaics[key]

    def _draw(self, view: FeatureMapView) -> str:
        input_title, map_title, readout = self._titles()
        view.update(
            self.images[self.image.value],
            self.feature_map(),
            input_title=input_title,
            map_title=map_title,
            layer_maps=self.activations().maps[self.layer.value],
            channel=self.channel.value,
            mosaic=self.mosaic(),
        )
        return readout

    def update(self) -> None:
        """Fit the channel slider to the layer, show the chosen map and the layer's grid in place, redraw once."""
        with self._updating:
            channels = self.activations().maps[self.layer.value].shape[0]
            if self.channel.max != channels - 1:
                with self.channel.hold_sync():
                    if self.channel.value > channels - 1:
                        self.channel.value = channels - 1
                    self.channel.max = channels - 1
            self.readout.value = self._draw(self.view)
        self._redraw()

    def static_figure(self) -> matplotlib.figure.Figure:
        fig = matplotlib.figure.Figure(dpi=100)
        self._draw(FeatureMapView(fig))
        return fig

    def benchmark_steps(self):
        return [
            *[(self.channel, c) for c in range(min(8, self.channel.max + 1))],
            *[(self.layer, name) for name in self.layer.options],
            *[(self.image, i) for i in range(min(8, self.image.max + 1))],
            (self.layer, self.layer.options[0]),
        ]

    def _widgets(self):
        yield from (*self.controls(), self.readout, self.canvas, self.canvas.toolbar)

    def __repr__(self) -> str:
        return f"FeatureMapExplorer(image={self.image.value}, layer={self.layer.value!r}, channel={self.channel.value})"
