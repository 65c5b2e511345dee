"""The feature-map explorer (lesson 03): a trained network's maps per image, layer and channel.

Picture: :func:`cnn_lessons.features.batch_activations`; view: :class:`FeatureMapView`; controls:
:class:`FeatureMapExplorer`."""

from __future__ import annotations

from html import escape

import ipywidgets as widgets
import matplotlib
import matplotlib.figure
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from cnn_lessons import data, features, train
from cnn_lessons.drawing.images import ColorBar, framed, still_image
from cnn_lessons.drawing.style import DIVERGING
from cnn_lessons.drawing.text import axes_title
from cnn_lessons.explorers._base import Explorer, slider

__all__ = [
    "FeatureMapView",
    "FeatureMapExplorer",
]


class FeatureMapView:
    """An input image beside one channel of one layer's feature map, with a colour bar.

    The artists are made once; :meth:`update` changes them in place: the input picture and the map
    (``set_data``, ``set_clim``; the map's extent and the axes limits follow its size, so 8x8 and 4x4 maps
    both fill the panel), the titles (``set_text``) and the colour bar. The map is drawn on a diverging
    colormap centred on 0 with limits +-max|map| of the channel shown: white is 0 (a ReLU's "off"), red
    positive, blue negative (only a convolution's raw output has those). A channel that is 0 everywhere is
    said so in its title.

    The input: one channel in grey (``gray_r``: high values dark, like ink on paper, on the image's own
    0..max scale, at least 0..1), three channels as RGB scaled to 0..1 together, more channels as their mean.
    """

    def __init__(self, fig: Figure, *, fontsize: float = 10):
        self.fig = fig
        side, gap, top, bottom, left = 2.5, 0.75, 0.5, 0.12, 0.15
        widths = [left, side, gap, side, 0.1, 0.14, 0.55]
        width, height = sum(widths), side + top + bottom
        self.figsize = (width, height)
        if tuple(fig.get_size_inches()) != self.figsize:
            fig.set_size_inches(width, height)
        lefts = [sum(widths[:i]) for i in range(len(widths))]

        def axes(i):
            return fig.add_axes((lefts[i] / width, bottom / height, widths[i] / width, side / height))

        self.ax_input, self.ax_map, self.ax_colorbar = axes(1), axes(3), axes(5)
        self.input_image = still_image(self.ax_input, np.zeros((2, 2)), "gray_r", (0.0, 1.0))
        self.map_image = still_image(self.ax_map, np.zeros((2, 2)), DIVERGING, (-1.0, 1.0))
        for ax in (self.ax_input, self.ax_map):
            framed(ax)
        self.input_title = axes_title(self.ax_input, "", fontsize, top)
        self.map_title = axes_title(self.ax_map, "", fontsize, top)
        self.colorbar = ColorBar(self.ax_colorbar, self.map_image, fontsize=fontsize - 2)
        framed(self.ax_colorbar)

    @staticmethod
    def _show_at_size(image: AxesImage, ax: Axes, height: int, width: int) -> None:
        """Pixel (r, c) of the data centred on (c, r), and the axes just around the picture."""
        extent = (-0.5, width - 0.5, height - 0.5, -0.5)
        if (ax.get_xlim(), ax.get_ylim()) != (extent[:2], extent[2:]):
            image.set_extent(extent)
            ax.set_xlim(extent[0], extent[1])
            ax.set_ylim(extent[2], extent[3])

    def update(self, image, feature_map, *, input_title: str = "", map_title: str = "") -> None:
        """Show ``image`` ((C, H, W) or (H, W)) and ``feature_map`` ((h, w), one channel), with these titles."""
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

    def shown(self) -> np.ndarray:
        """The feature map on show, read back from its image."""
        return np.asarray(self.map_image.get_array())


class FeatureMapExplorer(Explorer):
    """What a network computes inside: pick an image, a layer and a channel, see that channel's feature map.

    ``model``: a trained network (e.g. :func:`cnn_lessons.train.train_digits_cnn`'s); ``images``: a batch
    (N, C, H, W) (or (N, H, W)) to choose from; ``labels``: their classes, shown when given; ``layers``:
    layer names (default: every layer whose output is a feature map, see
    :func:`cnn_lessons.features.activations`).

    Controls: ``image`` (IntSlider, the index into ``images``), ``layer`` (SelectionSlider over the layer
    names, in the order they run) and ``channel`` (IntSlider; its maximum follows the chosen layer's channel
    count, and a channel beyond it is moved to the last one). ``readout`` (HTML) names the layer, its shape
    and the channel, and the predicted class. Each image's maps are computed once, with a chunk of its
    neighbours in one forward pass (:func:`cnn_lessons.features.batch_activations`, see :meth:`activations`),
    and kept; the canvas shows
    :class:`FeatureMapView`, updated in place.
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
            f"{channels}\u00d7{height}\u00d7{width}); showing channel <b>{channel}</b> (0 to {channels - 1}) "
            f"| image {index}: {label}predicted <b>{predicted}</b>"
        )
        return input_title, map_title, readout

    def update(self) -> None:
        """Fit the channel slider to the layer, show the chosen map in place, ask for one redraw."""
        with self._updating:
            channels = self.activations().maps[self.layer.value].shape[0]
            if self.channel.max != channels - 1:
                with self.channel.hold_sync():
                    if self.channel.value > channels - 1:
                        self.channel.value = channels - 1
                    self.channel.max = channels - 1
            input_title, map_title, readout = self._titles()
            self.view.update(
                self.images[self.image.value], self.feature_map(), input_title=input_title, map_title=map_title
            )
            self.readout.value = readout
        self._redraw()

    def static_figure(self) -> matplotlib.figure.Figure:
        fig = matplotlib.figure.Figure(dpi=100)
        input_title, map_title, _ = self._titles()
        FeatureMapView(fig).update(
            self.images[self.image.value], self.feature_map(), input_title=input_title, map_title=map_title
        )
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
