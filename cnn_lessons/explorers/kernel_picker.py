"""The kernel picker (lesson 01): classic 3x3 kernels, or one the student types, on a real photo.

Picture: :func:`kernel_picture` (correlation and convolution with ``ops.CLASSIC_KERNELS`` or a typed kernel, in
one ``ops.conv2d`` pass, and what the kernel does); view: :class:`KernelPickerView`; controls: :class:`KernelPicker`."""

from __future__ import annotations

import dataclasses
from html import escape

import ipywidgets as widgets
import matplotlib
import matplotlib.figure
import torch
from matplotlib.figure import Figure

from cnn_lessons import data, ops
from cnn_lessons.drawing.cells import Grid, cell_axes
from cnn_lessons.drawing.images import ColorBar, framed, still_image
from cnn_lessons.drawing.style import COLORS, DIVERGING, MINUS, format_number
from cnn_lessons.drawing.text import TextBatch, axes_title
from cnn_lessons.explorers._base import Explorer

__all__ = [
    "CUSTOM",
    "KernelPicture",
    "kernel_picture",
    "KernelPicker",
    "KernelPickerView",
    "KERNEL_NOTES",
]


CUSTOM = "custom"
"""The kernel picker's choice whose weights the student types."""


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class KernelPicture:
    """What the kernel picker draws for one kernel on one photo, and what it says about the kernel.

    ``result`` is the correlation (what ``F.conv2d`` computes, ``padding="same"``), ``convolved`` the true
    convolution (the kernel turned half a turn first). ``weight_sum`` says what the kernel does to a flat area
    (it multiplies its brightness by that sum); ``photo_mean``/``result_mean`` are the mean brightness of the
    photo and of the result away from the border (where the zero padding is not seen). ``symmetry``:
    ``"symmetric"`` (the half-turned kernel is the same: convolution = correlation), ``"antisymmetric"`` (it is
    the negative: convolution = −correlation) or ``"neither"``; ``flip_difference`` is the largest
    |correlation − convolution| on the photo, ``flip_share`` that as a fraction of the largest |correlation|.
    ``signed``: the result is shown on a diverging scale centred on 0 (weights summing to 0 or less). When
    ``problem`` is not empty nothing could be computed (a weight that is not a number, an overflow) and it
    says why; the results are then zeros.
    """

    name: str
    kernel: torch.Tensor
    result: torch.Tensor
    convolved: torch.Tensor
    weight_sum: float
    photo_mean: float
    result_mean: float
    symmetry: str
    flip_difference: float
    flip_share: float
    signed: bool
    brightness: str
    flip: str
    short_note: str
    problem: str = ""


def _interior(x: torch.Tensor) -> torch.Tensor:
    """``x`` without its outermost rows and columns (when it has more than two of each)."""
    return x[1:-1, 1:-1] if min(x.shape) > 2 else x


def _number(value: float, digits: int = 2) -> str:
    """:func:`format_number`, or three significant digits for a number of 100,000 or more (``1e+38``)."""
    return format_number(value, digits) if abs(value) < 1e5 else f"{value:.3g}".replace("-", MINUS)


def _brightness_text(total: float, photo_mean: float, result_mean: float, tolerance: float) -> tuple[str, str]:
    """(one sentence, a two-line note for the figure) on what weights summing to ``total`` do to brightness."""
    said = _number(total)
    means = f"on the photo the mean brightness goes from {_number(photo_mean)} to {_number(result_mean)}"
    if abs(total) <= tolerance:
        return (
            f"Its weights sum to 0: a flat area becomes 0, so only changes in brightness (edges, texture) remain, "
            f"as positive and negative values ({means}).",
            "weights sum to 0:\nflat areas \u2192 0",
        )
    if abs(total - 1) <= tolerance:
        return (
            f"Its weights sum to 1: a flat area keeps its brightness ({means}).",
            "weights sum to 1:\nbrightness kept",
        )
    if total > 0:
        effect = "brighter" if total > 1 else "darker"
        return (
            f"Its weights sum to {said}: a flat area comes out {said} times as bright, {effect} ({means}"
            f"{'; above 1 shows as white' if total > 1 else ''}).",
            f"weights sum to {said}:\nflat areas \u00d7 {said}, {effect}",
        )
    return (
        f"Its weights sum to {said}, less than 0: a flat area comes out negative, light and dark swap ({means}).",
        f"weights sum to {said}:\nlight and dark swap",
    )


def _flip_text(symmetry: str, difference: float, share: float, mean_difference: float) -> tuple[str, str]:
    """(one sentence, a short line for the figure) on what turning the kernel half a turn (convolution) changes."""
    if symmetry == "symmetric":
        return (
            "Turned half a turn (flipped both ways, as convolution flips it) it is the same kernel: convolution and "
            f"correlation give the same picture (they differ by {_number(difference)} on the photo).",
            "flipped: the same kernel",
        )
    if symmetry == "antisymmetric":
        return (
            "Turned half a turn (as convolution flips it) it is its own negative: convolution gives minus the "
            f"correlation, every response changes sign (they differ by up to {_number(difference)} on the "
            "photo, twice the largest response).",
            f"flipped: {MINUS}1 \u00d7 the kernel",
        )
    return (
        "Turned half a turn (as convolution flips it) it is a different kernel: on the photo convolution differs "
        f"from correlation by up to {_number(difference, 3)} ({_number(100 * share, 1)}% of the largest "
        f"response), {_number(mean_difference, 3)} on average.",
        "flipped: a different kernel",
    )


def kernel_picture(image, kernel, name: str = CUSTOM) -> KernelPicture:
    """The photo filtered with ``kernel`` (correlation and convolution, ``padding="same"``) and what it does."""
    # long: the checks, both filterings, then the three computed sentences, in one place a test can read
    image = torch.as_tensor(image).detach().cpu().float()
    kernel = torch.as_tensor(kernel).detach().cpu().float()
    if image.ndim != 2:
        raise ValueError(f"the photo must be a 2-D grayscale image (H, W), got shape {tuple(image.shape)}")
    if kernel.ndim != 2 or kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError(
            f"the kernel must be 2-D and fit inside the {image.shape[0]}x{image.shape[1]} photo, "
            f"got shape {tuple(kernel.shape)}: a 3x3 kernel, for example"
        )
    zeros = torch.zeros_like(image)
    flipped = kernel.flip(0, 1)  # half a turn: the kernel convolution applies
    symmetry = (
        "symmetric" if torch.equal(flipped, kernel) else "antisymmetric" if torch.equal(flipped, -kernel) else "neither"
    )
    problem = ""
    if not bool(torch.isfinite(kernel).all()):
        problem = "a weight is not a finite number (nan or infinity): type numbers such as \u22121, 0.5 or 2"
    else:  # correlation and convolution in one pass: the kernel and its half turn as two output channels
        both = ops.conv2d(image[None, None], torch.stack([kernel, flipped])[:, None], padding="same")[0]
        result = both[0]
        convolved = result if symmetry == "symmetric" else -result if symmetry == "antisymmetric" else both[1]
        if not bool(torch.isfinite(both).all()):
            largest = _number(float(kernel.abs().max()))
            problem = (
                f"the weights are too large (up to {largest}): the filtered values pass float32's largest "
                "number, about 3.4e38; weights below 1e30 work"
            )
    if problem:
        result = convolved = zeros
    total = float(kernel.double().sum())
    tolerance = 1e-6 * max(1.0, float(kernel.abs().sum())) if not problem else 0.0
    gap = (result - convolved).abs()
    difference, largest = float(gap.max()), float(result.abs().max())
    share = difference / largest if largest > 0 else 0.0
    photo_mean, result_mean = float(_interior(image).double().mean()), float(_interior(result).double().mean())
    if problem:
        brightness, flip, short = "", "", "nothing to show:\nsee the note"
    else:
        brightness, short_sum = _brightness_text(total, photo_mean, result_mean, tolerance)
        flip, short_flip = _flip_text(symmetry, difference, share, float(gap.mean()))
        short = f"{short_sum}\n{short_flip}"
    return KernelPicture(
        name=name,
        kernel=kernel,
        result=result,
        convolved=convolved,
        weight_sum=total,
        photo_mean=photo_mean,
        result_mean=result_mean,
        symmetry=symmetry,
        flip_difference=difference,
        flip_share=share,
        signed=not problem and total <= tolerance,
        brightness=brightness,
        flip=flip,
        short_note=short,
        problem=problem,
    )


class KernelPickerView:
    """A grayscale photo, a small kernel as an annotated grid, and the filtered photo with a colour bar.

    The photo is drawn once. :meth:`update` writes a :class:`KernelPicture`'s kernel into the grid (tinted by
    sign), its short note under it, and the result into the existing image (``set_data``). Kernels whose
    weights sum to 0 or less (edge detectors) give signed output: it is shown on a diverging colormap centred
    on 0 with limits +-max|result| (away from the border). Kernels whose weights sum to more than 0 are shown
    in grey on the photo's own scale (0..1), so the two images compare directly and a change of brightness
    shows as one (values beyond 0..1, e.g. a sharpened edge's overshoot, saturate).
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

    def update(self, picture: KernelPicture) -> None:
        """Show ``picture``'s kernel, its note and its result (the photo filtered with it)."""
        kernel, result = picture.kernel, picture.result
        shown = kernel if bool(torch.isfinite(kernel).all()) else torch.nan_to_num(kernel, nan=0.0)
        self.kernel_grid.set_values(shown)
        self.kernel_grid.color_by_value(shown, vmax=max(1.0, 1.5 * float(shown.abs().max())))
        self.kernel_title.set_text(picture.name)
        self.kernel_note.set_text(picture.short_note)
        self.result_image.set_data(result.numpy())
        if picture.problem:
            self.result_image.set_cmap("gray")
            self.result_image.set_clim(*self.photo_clim)
            self.result_title.set_text("nothing to show: see the note")
        elif picture.signed:  # an edge detector (or worse): signed output around 0
            # scale to the interior: the outermost rows and columns also see the zero padding, whose false
            # edges would otherwise set the scale (they saturate instead)
            limit = float(_interior(result).abs().max()) or 1.0
            self.result_image.set_cmap(DIVERGING)
            self.result_image.set_clim(-limit, limit)
            self.result_title.set_text("filtered: signed, 0 is white")
        else:
            self.result_image.set_cmap("gray")
            self.result_image.set_clim(*self.photo_clim)
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


def note_html(picture: KernelPicture) -> str:
    """The kernel picker's read-out: what the kernel is for (a classic one), then what it does, computed."""
    if picture.problem:
        return f"<b>{escape(picture.name)}</b>: nothing to show, {escape(picture.problem)}."
    known = KERNEL_NOTES.get(picture.name)
    intro = f"{escape(known)}.<br>" if known else ""
    return f"<b>{escape(picture.name)}</b>: {intro}{escape(picture.brightness)}<br>{escape(picture.flip)}"


class KernelPicker(Explorer):
    """Classic hand-made 3x3 kernels, or one typed in, on a real photo: see its weights and the filtered photo.

    ``image``: a 2-D grayscale image with values in [0, 1] (default :func:`cnn_lessons.data.load_photo`).
    The result is the photo correlated with the kernel, ``padding="same"``: what ``F.conv2d`` computes.
    Controls: ``kernel`` (Dropdown over ``ops.CLASSIC_KERNELS`` and ``"custom"``), ``cells`` (3x3 FloatText,
    the weights: a classic kernel's are written in, and typing into one switches to ``"custom"``) and ``note``
    (HTML: what the kernel does, from :func:`kernel_picture`: the sum of its weights and its effect on
    brightness, and whether convolution, which flips it, differs from correlation on the photo).
    """

    def __init__(self, image=None, kernel: str = "sobel x", weights=None):
        # long: the dropdown, the 3x3 weight inputs and their layout, the figure, then the first picture
        if image is None:
            image = data.load_photo()
        self.image = torch.as_tensor(image)
        names = [*ops.CLASSIC_KERNELS, CUSTOM]
        if kernel not in names:
            raise ValueError(f"kernel must be one of {names}, got {kernel!r}")
        start = ops.CLASSIC_KERNELS.get(kernel, ops.CLASSIC_KERNELS["identity"]) if weights is None else weights
        start = torch.as_tensor(start, dtype=torch.float32)
        if start.shape != (3, 3):
            raise ValueError(f"weights must be 3x3 (three rows of three numbers), got shape {tuple(start.shape)}")
        if weights is not None and kernel != CUSTOM:
            raise ValueError(f"weights are typed into the 'custom' kernel: pass kernel='custom', not {kernel!r}")
        self.kernel = widgets.Dropdown(options=names, value=kernel, description="kernel")
        self.cells = [
            [
                widgets.FloatText(
                    value=float(start[r, c]),
                    description=f"w[{r},{c}]",  # also the input's accessible name
                    step=0.1,
                    continuous_update=True,
                    style={"description_width": "46px"},
                    layout=widgets.Layout(width="112px"),
                )
                for c in range(3)
            ]
            for r in range(3)
        ]
        grid = widgets.GridBox(
            [cell for row in self.cells for cell in row],
            layout=widgets.Layout(grid_template_columns="repeat(3, 116px)", grid_gap="2px", margin="0 0 0 40px"),
        )
        label = widgets.HTML("weights (typing switches to <i>custom</i>):", layout=widgets.Layout(margin="0 0 0 40px"))
        self.note = widgets.HTML(layout=widgets.Layout(margin="0 0 0 10px", max_width="520px"))
        self._pictures: dict[tuple, KernelPicture] = {}

        fig = matplotlib.figure.Figure(dpi=100)
        self.view = KernelPickerView(fig, self.image, (3, 3))
        controls = widgets.VBox([self.kernel, label, grid])
        self._show(fig, widgets.HBox([controls, self.note]), toolbar_visible="fade-in-fade-out")

        self.update()
        self._watch([self.kernel])
        for cell in self.cell_widgets():
            cell.observe(self._on_cell, names="value")

    def cell_widgets(self) -> list[widgets.FloatText]:
        """The nine weight inputs, row by row."""
        return [cell for row in self.cells for cell in row]

    def weights(self) -> torch.Tensor:
        """The 3x3 kernel in use: the chosen classic kernel's, or the typed one for ``"custom"``."""
        if self.kernel.value != CUSTOM:
            return ops.CLASSIC_KERNELS[self.kernel.value]
        return torch.tensor([[cell.value for cell in row] for row in self.cells], dtype=torch.float32)

    def _on_cell(self, change) -> None:
        if not self._updating.active:
            with self._updating:
                self.kernel.value = CUSTOM  # under the guard: no second update
                self.update()

    def picture(self) -> KernelPicture:
        """What the controls give (:func:`kernel_picture`), computed once per kernel (the photo never changes)."""
        weights = self.weights()
        key = (self.kernel.value, *weights.flatten().tolist())
        if key not in self._pictures:
            if len(self._pictures) > 64:  # typed kernels: keep the last few only
                self._pictures.clear()
            self._pictures[key] = kernel_picture(self.image, weights, self.kernel.value)
        return self._pictures[key]

    def update(self) -> None:
        """Filter the photo with the chosen or typed kernel, update the picture and the note in place."""
        with self._updating:
            if self.kernel.value != CUSTOM:  # show the classic kernel's weights, ready to edit
                for cell, value in zip(self.cell_widgets(), self.weights().flatten().tolist(), strict=True):
                    cell.value = value
            self.current = picture = self.picture()
            self.result = picture.result
            self.view.update(picture)
            self.note.value = note_html(picture)
        self._redraw()

    def static_figure(self) -> matplotlib.figure.Figure:
        fig = matplotlib.figure.Figure(dpi=100)
        KernelPickerView(fig, self.image, (3, 3)).update(self.picture())
        return fig

    def benchmark_steps(self):
        centre, corner = self.cells[1][1], self.cells[0][0]
        return [
            *[(self.kernel, name) for name in ops.CLASSIC_KERNELS],
            (self.kernel, CUSTOM),
            *[(centre, value) for value in (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)],
            *[(corner, value) for value in (-1.0, 0.5, 2.0)],
        ]

    def _widgets(self):
        yield from (self.kernel, *self.cell_widgets(), self.note, self.canvas, self.canvas.toolbar)

    def __repr__(self) -> str:
        if self.kernel.value == CUSTOM:
            return f"KernelPicker(kernel='custom', weights={[[cell.value for cell in row] for row in self.cells]})"
        return f"KernelPicker(kernel={self.kernel.value!r})"
