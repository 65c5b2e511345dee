"""The kernel picker (lesson 01): classic 3x3 kernels on a real photo, the filtered photo beside it.

Picture: ``ops.correlate2d`` with ``ops.CLASSIC_KERNELS``; view: :class:`KernelPickerView`; controls:
:class:`KernelPicker`."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib
import matplotlib.figure
import torch
from matplotlib.figure import Figure

from cnn_lessons import data, ops
from cnn_lessons.drawing.cells import Grid, cell_axes
from cnn_lessons.drawing.images import ColorBar, framed, still_image
from cnn_lessons.drawing.style import COLORS, DIVERGING, format_number
from cnn_lessons.drawing.text import TextBatch, axes_title
from cnn_lessons.explorers._base import Explorer

__all__ = [
    "KernelPicker",
    "KernelPickerView",
    "KERNEL_NOTES",
]


class KernelPickerView:
    """A grayscale photo, a small kernel as an annotated grid, and the filtered photo with a colour bar.

    The photo is drawn once. :meth:`update` writes the kernel into the grid (tinted by sign) and the result
    into the existing image (``set_data``). Kernels whose weights sum to 0 (edge detectors) give signed
    output: it is shown on a diverging colormap centred on 0 with limits +-max|result|. Kernels whose weights
    sum to 1 keep the average brightness: the result is shown in grey on the photo's own scale (0..1), so the
    two images compare directly (values beyond 0..1, e.g. a sharpened edge's overshoot, saturate).
    """

    def __init__(self, fig: Figure, photo, kernel_shape=(3, 3), *, fontsize: float = 10):
        # long: makes every artist of the picture once (photo, kernel grid, filtered photo, colour bar)
        self.fig = fig
        photo = torch.as_tensor(photo).detach().cpu()
        if photo.dim() != 2:
            raise ValueError(f"the photo must be a 2-D grayscale image, got shape {tuple(photo.shape)}")
        kh, kw = kernel_shape
        # layout in inches: photo | kernel grid | result | colour bar
        side, cell, gap, top, bottom = 2.56, 0.5, 0.45, 0.35, 0.12  # 2.56 in: a 128-pixel photo at 2x
        kernel_w = max(kw * cell, 1.6)
        widths = [0.15, side, gap, kernel_w, gap, side, 0.12, 0.14, 0.5]
        width, height = sum(widths), side + top + bottom
        self.figsize = (width, height)
        if tuple(fig.get_size_inches()) != self.figsize:
            fig.set_size_inches(width, height)
        lefts = [sum(widths[:i]) for i in range(len(widths))]

        def axes(i, h, w=None, y=None):
            y = bottom if y is None else y
            return fig.add_axes((lefts[i] / width, y / height, (w or widths[i]) / width, h / height))

        self.ax_photo = axes(1, side)
        self.ax_kernel = axes(3, kh * cell, w=kernel_w, y=bottom + (side - kh * cell) / 2)
        self.ax_result = axes(5, side)
        self.ax_colorbar = axes(7, side)

        self.photo_clim = (min(0.0, float(photo.min())), max(1.0, float(photo.max())))  # 0..1 for a photo
        self.photo_image = still_image(self.ax_photo, photo.numpy(), "gray", self.photo_clim)
        self.photo_title = axes_title(self.ax_photo, "original (grayscale)", fontsize, top)
        self.result_image = still_image(self.ax_result, torch.zeros_like(photo).numpy(), "gray", (0.0, 1.0))
        self.result_title = axes_title(self.ax_result, "", fontsize, top)
        self.colorbar = ColorBar(self.ax_colorbar, self.result_image, fontsize=fontsize - 2)
        for ax in (self.ax_photo, self.ax_result, self.ax_colorbar):  # a plain frame: axes without ticks draw faster
            framed(ax)

        pad = (kernel_w / cell - kw) / 2
        self.kernel_grid = Grid(self.ax_kernel, (kh, kw), fontsize=fontsize + 1)
        cell_axes(self.ax_kernel, -pad, kw + pad, -0.04, kh + 0.04)  # room for the border lines
        words = TextBatch(self.ax_kernel)  # drawn in one call
        self.kernel_title = words.text(kw / 2, -0.35, "", ha="center", va="bottom", fontsize=fontsize)
        self.kernel_note = words.text(
            kw / 2, kh + 0.3, "", ha="center", va="top", fontsize=fontsize - 1, color="#555555"
        )
        # photo (correlated with) kernel = result, the operators between the panels
        words.text(
            -pad - gap / 2 / cell,
            kh / 2,
            "\u22c6",
            ha="center",
            va="center",
            fontsize=fontsize + 10,
            color=COLORS["text"],
            clip_on=False,
        )
        words.text(
            kw + pad + gap / 2 / cell,
            kh / 2,
            "=",
            ha="center",
            va="center",
            fontsize=fontsize + 6,
            color=COLORS["text"],
            clip_on=False,
        )

    def update(self, name: str, kernel, result) -> None:
        """Show kernel ``name`` (its values ``kernel``) and ``result`` (the photo filtered with it)."""
        kernel = torch.as_tensor(kernel).detach().cpu()
        result = torch.as_tensor(result).detach().cpu()
        self.kernel_grid.set_values(kernel)
        self.kernel_grid.color_by_value(kernel, vmax=max(1.0, 1.5 * float(kernel.abs().max())))
        total = float(kernel.sum())
        self.kernel_title.set_text(name)
        self.result_image.set_data(result.numpy())
        if abs(total) < 1e-6:  # an edge detector: signed output around 0
            # scale to the interior: the outermost rows and columns also see the zero padding, whose false
            # edges would otherwise set the scale (they saturate instead)
            inner = result[1:-1, 1:-1] if min(result.shape) > 2 else result
            limit = float(inner.abs().max()) or 1.0
            self.result_image.set_cmap(DIVERGING)
            self.result_image.set_clim(-limit, limit)
            self.kernel_note.set_text("weights sum to 0:\nflat areas \u2192 0")
            self.result_title.set_text("filtered: signed, 0 is white")
        else:
            self.result_image.set_cmap("gray")
            self.result_image.set_clim(*self.photo_clim)
            self.kernel_note.set_text(
                f"weights sum to {format_number(total)}:\nbrightness kept"
                if abs(total - 1) < 1e-6
                else f"weights sum to {format_number(total)}"
            )
            self.result_title.set_text("filtered: grey scale of the original")
        self.colorbar.update()


KERNEL_NOTES = {
    "identity": "copies every pixel: the output is the input",
    "box blur": "the mean of each 3x3 neighbourhood: smooths noise and fine detail",
    "sharpen": "5 x the pixel minus its 4 neighbours: the pixel plus its difference from them, more contrast",
    "sobel x": "right column minus left column (middle row counted twice): positive where brightness "
    "increases to the right, so vertical edges light up",
    "sobel y": "bottom row minus top row: positive where brightness increases downwards (horizontal edges)",
    "laplacian": "the 4 neighbours minus 4 x the pixel: 0 on flat areas and even ramps, strong on edges and "
    "fine detail in every direction",
}


class KernelPicker(Explorer):
    """Classic hand-made 3x3 kernels on a real photo: pick one, see its weights and the filtered photo.

    ``image``: a 2-D grayscale image with values in [0, 1] (default :func:`cnn_lessons.data.load_photo`).
    The result is ``ops.correlate2d(image, kernel, padding="same")``, what ``F.conv2d`` computes.
    Controls: ``kernel`` (Dropdown over ``ops.CLASSIC_KERNELS``) and ``note`` (HTML, what the kernel does).
    """

    def __init__(self, image=None, kernel: str = "sobel x"):
        if image is None:
            image = data.load_photo()
        self.image = torch.as_tensor(image)
        names = list(ops.CLASSIC_KERNELS)
        if kernel not in names:
            raise ValueError(f"kernel must be one of {names}, got {kernel!r}")
        self.kernel = widgets.Dropdown(options=names, value=kernel, description="kernel")
        self.note = widgets.HTML(layout=widgets.Layout(margin="0 0 0 10px"))
        self.result = ops.correlate2d(self.image, ops.CLASSIC_KERNELS[kernel], padding="same")
        self._results = {kernel: self.result}

        fig = matplotlib.figure.Figure(dpi=100)
        self.view = KernelPickerView(fig, self.image, ops.CLASSIC_KERNELS[kernel].shape)
        self._show(fig, widgets.HBox([self.kernel, self.note]), toolbar_visible="fade-in-fade-out")

        self.update()
        self._watch([self.kernel])

    def update(self) -> None:
        """Filter the photo with the chosen kernel and update the picture in place."""
        name = self.kernel.value
        self._render(self.view)
        self.note.value = f"<b>{name}</b>: {KERNEL_NOTES.get(name, '')}"
        self._redraw()

    def _render(self, view: KernelPickerView) -> None:
        name = self.kernel.value
        weights = ops.CLASSIC_KERNELS[name]
        if name not in self._results:  # the photo never changes: each kernel's result is computed once
            self._results[name] = ops.correlate2d(self.image, weights, padding="same")
        self.result = self._results[name]
        view.update(name, weights, self.result)

    def static_figure(self) -> matplotlib.figure.Figure:
        fig = matplotlib.figure.Figure(dpi=100)
        self._render(KernelPickerView(fig, self.image, ops.CLASSIC_KERNELS[self.kernel.value].shape))
        return fig

    def benchmark_steps(self):
        return [(self.kernel, name) for name in self.kernel.options]

    def _widgets(self):
        yield from (self.kernel, self.note, self.canvas, self.canvas.toolbar)

    def __repr__(self) -> str:
        return f"KernelPicker(kernel={self.kernel.value!r})"
