"""Still images and colour bars that update in place (and skip what they already show)."""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from cnn_lessons.drawing.style import COLORS, format_number
from cnn_lessons.drawing.text import GlyphLabels

__all__ = [
    "StillImage",
    "still_image",
    "framed",
    "ColorBar",
]


class StillImage(AxesImage):
    """An ``AxesImage`` that keeps its last resampled, colour-mapped picture while nothing about it changes (the
    same data, limits, colormap and place on the canvas): a photo that stays put then redraws as a blit.
    ``set_data``, ``set_clim`` and ``set_cmap`` invalidate it, as for any image, unless they set what the image
    already has (the same values, limits or colormap): an update that redraws everything can pass them all."""

    _still = None

    def make_image(self, renderer, magnification=1.0, unsampled=False):
        key = (
            id(self._A),
            self.norm.vmin,
            self.norm.vmax,
            self.cmap.name,
            tuple(self.get_extent()),
            tuple(self.get_transform().get_matrix().ravel()),
            tuple(self.axes.bbox.bounds),
            magnification,
            unsampled,
        )
        if self._still is None or self._still[0] != key:
            self._still = (key, super().make_image(renderer, magnification, unsampled))
        return self._still[1]

    def set_data(self, A) -> None:
        current = self.get_array()  # (matplotlib keeps a copy of the data)
        if current is not None and not np.ma.is_masked(current) and np.array_equal(np.asarray(A), current):
            return
        self._still = None
        super().set_data(A)

    def set_cmap(self, cmap) -> None:
        if self.get_cmap() is not None and matplotlib.colormaps.get_cmap(cmap) == self.get_cmap():
            return
        super().set_cmap(cmap)

    def changed(self) -> None:
        self._still = None
        super().changed()


def still_image(ax: Axes, data, cmap: str, clim, *, extent=None) -> StillImage:
    """``ax.imshow(data, cmap=cmap, vmin=clim[0], vmax=clim[1], interpolation="nearest", extent=extent)`` with
    a :class:`StillImage` (origin upper without ``extent``, lower with it)."""
    image = StillImage(ax, cmap=cmap, interpolation="nearest", origin="upper" if extent is None else "lower")
    image.set_data(data)
    image.set_clim(*clim)
    if extent is not None:
        image.set_extent(extent)
    image.set_clip_path(ax.patch)
    ax.add_image(image)
    if extent is None:
        x0, x1, y0, y1 = image.get_extent()
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal")
    return image


def framed(ax: Axes) -> None:
    """No ticks, no axis machinery (which costs milliseconds per draw even without ticks): a thin frame only."""
    ax.set_axis_off()
    frame = Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, edgecolor="black", linewidth=0.8)
    frame.set_clip_on(False)
    ax.add_patch(frame)


class ColorBar:
    """A colour bar beside an image that follows its colormap and limits in place (:meth:`update`).

    matplotlib's ``Colorbar`` rebuilds its gradient and tick labels (a Text each, slow to draw) whenever the
    image's colormap or limits change; here the gradient is one image whose colormap is swapped, the ticks one
    LineCollection and the labels one :class:`TextBatch`.
    """

    def __init__(self, ax: Axes, mappable, *, fontsize: float = 8, nbins: int = 6):
        self.ax, self.mappable = ax, mappable
        self.locator = MaxNLocator(nbins=nbins)
        self.gradient = still_image(ax, np.linspace(0, 1, 256)[:, None], "viridis", (0, 1), extent=(0, 1, 0, 1))
        ax.set_aspect("auto")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xticks([])
        ax.set_yticks([])
        self.marks = LineCollection([], colors=COLORS["text"], linewidths=0.8, transform=ax.transAxes)
        self.marks.set_clip_on(False)
        ax.add_collection(self.marks, autolim=False)
        self.labels = GlyphLabels(ax, transform=ax.transAxes)
        self.fontsize = fontsize
        self.update()

    def update(self) -> None:
        low, high = self.mappable.get_clim()
        self.gradient.set_cmap(self.mappable.get_cmap())
        ticks = [t for t in self.locator.tick_values(low, high) if low - 1e-9 <= t <= high + 1e-9]
        where = [(t - low) / (high - low) if high > low else 0.5 for t in ticks]
        self.marks.set_segments([[(1, y), (1.18, y)] for y in where])
        self.labels.set_labels(
            [format_number(t) for t in ticks],
            [(1.35, y) for y in where] or np.zeros((0, 2)),
            sizes=self.fontsize,
            ha="left",
            va="center",
        )

    def get_ticklabels(self) -> list[str]:
        return self.labels.get_texts()
