"""The transposed-convolution explorer (lesson 05): each input cell stamps a kernel copy; overlaps add, 1-D and 2-D.

Picture: :func:`transposed_picture` (sizes from :mod:`cnn_lessons.arithmetic`, overlap counts and the equivalent
direct convolution from :mod:`cnn_lessons.ops`); view: :class:`TransposedView`; controls:
:class:`TransposedExplorer`."""

from __future__ import annotations

import dataclasses
from html import escape

import ipywidgets as widgets
import matplotlib
import matplotlib.colors as mcolors
import matplotlib.figure
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cnn_lessons.arithmetic import check_int, conv_transpose_output_size, effective_kernel_size
from cnn_lessons.drawing.cells import (
    cell_centres,
    cell_collection,
    cell_paths,
    cell_squares,
    fit_cells,
    number_size,
    outline_collection,
)
from cnn_lessons.drawing.style import COLORS, MINUS, TIMES
from cnn_lessons.drawing.text import GlyphLabels, TextBatch, wrap
from cnn_lessons.explorers._base import Explorer, slider
from cnn_lessons.ops import overlap_counts, stretch

__all__ = [
    "TransposedPicture",
    "transposed_formula",
    "transposed_torch_line",
    "colliding_sizes",
    "transposed_picture",
    "TRANSPOSED_COLORS",
    "TransposedView",
    "TransposedExplorer",
]


# --- the picture as data --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class TransposedPicture:
    """What the transposed-convolution explorer shows for one configuration (2-D is square: sizes per axis).

    ``input``: the small integers drawn in the input (1, 2, ... row-major); ``counts``: how many kernel copies
    land on each cell of the canvas, before padding crops it (:func:`cnn_lessons.ops.overlap_counts` with padding
    0, plus ``output_padding`` empty cells at the end); ``kept``: the canvas indices [start, stop) that the output
    keeps along each axis (None when torch refuses); ``stamp``: per axis, the canvas indices of the chosen input
    cell's kernel copy; ``direct``: the stretched input, padded with d(k-1)-p zeros on each side (plus
    output_padding at the end; a negative amount crops), which a stride-1 correlation with the flipped kernel
    turns into the same output; ``direct_kind``: per direct cell, 0 padding, 1 a zero put in by the stretch,
    2 an input value.
    """

    dims: int
    size: int
    kernel_size: int
    stride: int
    padding: int
    output_padding: int
    dilation: int
    input: torch.Tensor
    span: int
    canvas_size: int
    counts: torch.Tensor
    output_size: int | None
    problem: str | None = None
    kept: tuple[int, int] | None
    cell: int
    cell_index: tuple[int, ...]
    stamp: tuple[torch.Tensor, ...]
    direct_pads: tuple[int, int]
    direct: torch.Tensor
    direct_kind: torch.Tensor
    formula: str
    torch_line: str
    notes: tuple[str, ...]

    @property
    def last_cell(self) -> int:
        """The last input cell's flat index: the cell slider's maximum."""
        return self.size**self.dims - 1


def _n(value: int) -> str:
    return f"{value}".replace("-", MINUS)


def transposed_formula(size: int, kernel_size: int, stride: int, padding: int, output_padding: int, dilation: int):
    """o = (i − 1)·s − 2p + d(k − 1) + output_padding + 1, written out with the numbers (no check: may be < 1)."""
    out = (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    general = f"o = (i {MINUS} 1){TIMES}s {MINUS} 2p + d(k {MINUS} 1) + output_padding + 1"
    filled = (
        f"({size} {MINUS} 1){TIMES}{stride} {MINUS} 2{TIMES}{padding} + {dilation}{TIMES}({kernel_size} {MINUS} 1)"
        f" + {output_padding} + 1"
    )
    tail = f" = {_n(out)}" + (": no output" if out < 1 else "")
    return f"{general} = {filled}{tail}"


def transposed_torch_line(dims: int, kernel_size: int, stride: int, padding: int, output_padding: int, dilation: int):
    """The layer that computes this configuration, e.g. ``nn.ConvTranspose2d(1, 1, kernel_size=3, stride=2, ...)``."""
    return (
        f"nn.ConvTranspose{dims}d(1, 1, kernel_size={kernel_size}, stride={stride}, padding={padding}, "
        f"output_padding={output_padding}, dilation={dilation})"
    )


def colliding_sizes(size: int, kernel_size: int, stride: int, padding: int, dilation: int) -> tuple[int, ...]:
    """The input sizes that ``nn.Conv*d(kernel_size, stride, padding, dilation)`` maps to ``size``: (i-1)s - 2p +
    d(k-1) + 1 and the next s - 1 (those that are at least 1). ``output_padding`` 0, 1, ... picks one of them."""
    smallest = (size - 1) * stride - 2 * padding + effective_kernel_size(kernel_size, dilation)
    return tuple(n for n in range(smallest, smallest + stride) if n >= 1)


def _checkerboard_note(counts: torch.Tensor, kernel_size: int, stride: int, dilation: int, span: int) -> str | None:
    """Whether the copies overlap evenly away from the edges (1-D counts along one axis), or None if no cell is."""
    inner = counts[span - 1 : len(counts) - span + 1]
    if len(inner) == 0:
        return None
    low, high = int(inner.min()), int(inner.max())
    if low == high:
        why = f": k = {kernel_size} is a multiple of s = {stride}" if dilation == 1 and stride > 1 else ""
        return f"even overlap{why}; every cell away from the edges gets {low} cop{'y' if low == 1 else 'ies'}"
    pattern = ", ".join(str(int(v)) for v in inner[: min(len(inner), 2 * stride)])
    why = f"k = {kernel_size} is not a multiple of s = {stride}" if dilation == 1 else f"dilation {dilation}"
    return f"uneven overlap ({why}): cells get {low} to {high} copies ({pattern}, ...): the checkerboard"


def transposed_picture(
    dims: int = 2,
    size: int = 3,
    kernel_size: int = 3,
    stride: int = 2,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
    cell: int = 0,
) -> TransposedPicture:
    """Everything the transposed-convolution explorer draws for one configuration.

    ``cell``: the input cell whose kernel copy is shown, row-major in 2-D, held at the last cell when past the end.
    Never raises for a configuration torch refuses (output_padding not smaller than stride or dilation, padding
    that crops everything): ``problem`` says why, in the words of :mod:`cnn_lessons.arithmetic`'s ValueError.
    """
    # long: one pass from the configuration to every record field: sizes, counts, the stamp, the direct form, notes
    if dims not in (1, 2):
        raise ValueError(f"dims must be 1 or 2, got {dims!r}")
    size, kernel_size = check_int("size", size), check_int("kernel_size", kernel_size)
    stride, dilation = check_int("stride", stride), check_int("dilation", dilation)
    padding = check_int("padding", padding, minimum=0)
    output_padding = check_int("output_padding", output_padding, minimum=0)
    span = effective_kernel_size(kernel_size, dilation)
    x = torch.arange(1, size**dims + 1).reshape((size,) * dims)
    shape = (size,) * dims
    counts = overlap_counts(shape if dims == 2 else size, (kernel_size,) * dims if dims == 2 else kernel_size,
                            stride, 0, 0, dilation)  # fmt: skip
    counts = F.pad(counts, (0, output_padding) * dims)  # output_padding: cells no copy reaches, at the end
    canvas = counts.shape[0]
    problem, output_size, kept = None, None, None
    try:
        output_size = conv_transpose_output_size(size, kernel_size, stride, padding, output_padding, dilation)
        kept = (padding, padding + output_size)
    except ValueError as error:
        problem = f"torch refuses this: {error}"
    flat = min(check_int("cell", cell, minimum=0), size**dims - 1)
    index = (flat,) if dims == 1 else divmod(flat, size)
    stamp = tuple(i * stride + dilation * torch.arange(kernel_size) for i in index)
    before = span - 1 - padding
    pads = (before, before + output_padding)
    if (size - 1) * stride + 1 + sum(pads) < 1:  # padding crops more than there is (torch refuses): draw it uncropped
        pads = (max(pads[0], 0), max(pads[1], 0))
    flat_pads = pads * dims  # F.pad: the last axis first; a negative amount crops
    rows = x if dims == 2 else x[None]  # 1-D as one row
    direct = F.pad(stretch(rows, stride), flat_pads)
    kind = F.pad(stretch(torch.ones_like(rows), stride) + 1, flat_pads)  # 2 input, 1 stretch zero, 0 padding
    if dims == 1:
        direct, kind = direct[0], kind[0]
    notes = []
    if problem is None:
        forward = colliding_sizes(size, kernel_size, stride, padding, dilation)
        layer = f"nn.Conv{dims}d(1, 1, {kernel_size}, stride={stride}, padding={padding}, dilation={dilation})"
        if len(forward) > 1:
            notes.append(
                f"{layer} maps sizes {', '.join(map(str, forward))} all to {size}; output_padding {output_padding} "
                f"picks {output_size}"
            )
        else:
            notes.append(f"{layer} maps only {output_size} to {size}: nothing for output_padding to pick")
    along = overlap_counts(size, kernel_size, stride, 0, 0, dilation)  # 2-D counts are products of these
    board = _checkerboard_note(along, kernel_size, stride, dilation, span)
    if board:
        notes.append(board)
    stretched = f"= a stride-1 correlation with the flipped kernel over the input stretched by s = {stride}"
    if before >= 0:
        extra = f" (+{output_padding} after)" if output_padding else ""
        notes.append(f"{stretched}, padded by d(k{MINUS}1){MINUS}p = {before}{extra}")
    else:
        notes.append(f"{stretched}, cropped by p{MINUS}d(k{MINUS}1) = {-before}")
    return TransposedPicture(
        dims=dims,
        size=size,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        input=x,
        span=span,
        canvas_size=canvas,
        counts=counts,
        output_size=output_size,
        problem=problem,
        kept=kept,
        cell=flat,
        cell_index=index,
        stamp=stamp,
        direct_pads=pads,
        direct=direct,
        direct_kind=kind,
        formula=transposed_formula(size, kernel_size, stride, padding, output_padding, dilation),
        torch_line=transposed_torch_line(dims, kernel_size, stride, padding, output_padding, dilation),
        notes=tuple(notes),
    )


# --- the view -----------------------------------------------------------------------------------------------------


TRANSPOSED_COLORS = {
    "input": "#ffffff",
    "cell": COLORS["current"],  # the input cell shown, and its kernel copy's outline
    "stamp": COLORS["highlight"],
    "none": "#f4f4f4",  # a canvas cell no copy reaches
    "cropped": "#bdbdbd",  # blended over canvas cells that padding crops
    "pad": "#e2e2e2",  # the direct form's padding zeros
    "zero": "#f3f3f3",  # the zeros the stretch puts between values
    "pad_text": "#8a8a8a",
    "border": "#4a4a4a",  # the output that padding keeps
    "problem": "#9c2a00",
    "code": "#1f4e79",
}

_COUNT_MAP = matplotlib.colormaps["Blues"]  # the chosen copy is outlined in orange over it
_FIG_W, _FIG_H = 7.5, 4.6  # inches: every pixel costs time in ipympl's PNG frames
_TOP, _GRIDS_H = 0.4, 2.45
_TEXT_TOP = _TOP + _GRIDS_H + 0.3
_BOXES = {"input": (0.15, 1.45), "canvas": (1.75, 3.0), "direct": (4.95, 2.45)}  # 2-D panels: left, width


def _count_colors(picture: TransposedPicture) -> np.ndarray:
    """RGBA per canvas cell (row-major): darker for more copies, blended with grey where padding crops."""
    counts = picture.counts.reshape(-1).numpy().astype(float)
    top = max(counts.max(), 1.0)
    colors = _COUNT_MAP(0.1 + 0.5 * counts / top)
    colors[counts == 0] = mcolors.to_rgba(TRANSPOSED_COLORS["none"])
    n = picture.canvas_size
    inside = np.zeros(n, dtype=bool)
    if picture.kept is not None:
        inside[picture.kept[0] : picture.kept[1]] = True
    kept = (inside[:, None] & inside[None, :]).reshape(-1) if picture.dims == 2 else inside
    grey = np.asarray(mcolors.to_rgba(TRANSPOSED_COLORS["cropped"]))
    colors[~kept] = 0.45 * colors[~kept] + 0.55 * grey
    return colors


class _Panel:
    """One grid of numbered cells on an axes: its cells, their numbers, made once and refilled in place."""

    def __init__(self, ax):
        self.ax = ax
        self.cells = cell_collection(ax)
        self.numbers = GlyphLabels(ax)
        self.shape = None
        self.colors = None  # what is shown now: refilling the same costs a redraw's worth of glyph layout
        self.labelled = None

    def show(self, rows: int, cols: int, colors, labels, label_colors, cell_inches: float, offset=(0.0, 0.0)):
        """Fill a rows x cols grid at ``offset`` (cells) with these colours and labels (row-major)."""
        if self.shape != (rows, cols, offset):
            squares = cell_paths(rows, cols)
            if offset != (0.0, 0.0):
                squares = [path.transformed(matplotlib.transforms.Affine2D().translate(*offset)) for path in squares]
            self.cells.set_cells(squares)
            self.shape = (rows, cols, offset)
        if self.colors is None or not np.array_equal(self.colors, colors):
            self.cells.set_facecolor(colors)
            self.colors = np.array(colors, copy=True)
        size = number_size(cell_inches)
        key = (self.shape, size, tuple(labels), label_colors if isinstance(label_colors, str) else tuple(label_colors))
        if key == self.labelled:
            return
        self.labelled = key
        if size == 0:  # cells too small to read: colours only
            self.numbers.set_labels([], np.zeros((0, 2)))
            return
        centres = cell_centres(rows, cols) + np.asarray(offset)
        self.numbers.set_labels(labels, centres, sizes=size, colors=label_colors)


class TransposedView:
    """A transposed convolution, drawn: the input, the kernel copies it stamps on the output, the direct form.

    2-D: three panels. The input, the chosen cell highlighted; the canvas every kernel copy lands on, each cell
    numbered and shaded by how many copies overlap there (the checkerboard shows as stripes), the chosen cell's
    copy outlined, the cells that padding crops greyed and the kept output framed; the equivalent direct
    convolution's input (the input stretched by the stride, zeros between values, padded by d(k-1)-p). 1-D: the
    same three as rows of one panel, the input cells placed where their copies start, lines to the chosen copy.
    Below: the size formula with the numbers filled in, the PyTorch layer, and notes (which input sizes collide,
    whether the overlap is even) or, where torch refuses, why.

    :meth:`update` takes a :class:`TransposedPicture` and changes the existing artists only.
    """

    def __init__(self, fig: Figure, *, fontsize: float = 10):
        # long: makes every artist of the picture once (three grids in 2-D and 1-D, titles, frame, text lines)
        self.fig = fig
        self.figsize = (_FIG_W, _FIG_H)
        if tuple(fig.get_size_inches()) != self.figsize:
            fig.set_size_inches(*self.figsize)
        W, H = self.figsize

        def axes(left, top, w, h):
            ax = fig.add_axes((left / W, 1 - (top + h) / H, w / W, h / H))
            ax.set_axis_off()
            return ax

        self.axes2d = {name: axes(left, _TOP, w, _GRIDS_H) for name, (left, w) in _BOXES.items()}
        self.panels2d = {name: _Panel(ax) for name, ax in self.axes2d.items()}
        self.ax_1d = axes(0.15, _TOP, W - 0.3, _GRIDS_H)
        self.panels1d = {name: _Panel(self.ax_1d) for name in _BOXES}
        highlight = dict(facecolor="none", edgecolor=TRANSPOSED_COLORS["stamp"], linewidth=2.2, zorder=3)
        self.taps2d = outline_collection(self.axes2d["canvas"], linewidth=1.8)  # the chosen copy, tap by tap
        self.chosen2d = Rectangle((0, 0), 1, 1, **highlight)
        self.axes2d["input"].add_patch(self.chosen2d)
        frame = dict(facecolor="none", edgecolor=TRANSPOSED_COLORS["border"], linewidth=1.6, zorder=2.5)
        self.kept2d = Rectangle((0, 0), 1, 1, **frame)
        self.axes2d["canvas"].add_patch(self.kept2d)
        self.taps1d = outline_collection(self.ax_1d, linewidth=1.8)
        self.chosen1d = Rectangle((0, 0), 1, 1, **highlight)
        self.kept1d = Rectangle((0, 0), 1, 1, **frame)
        for patch in (self.chosen1d, self.kept1d):
            self.ax_1d.add_patch(patch)
        self.links1d = LineCollection([], colors=TRANSPOSED_COLORS["stamp"], linewidths=1.1, alpha=0.8, zorder=2)
        self.ax_1d.add_collection(self.links1d, autolim=False)
        self.words1d = TextBatch(self.ax_1d)
        self.row_names = [self.words1d.text(0, 0, name, ha="right", va="center", fontsize=fontsize - 1)
                          for name in ("input", "copies", "direct")]  # fmt: skip

        self.ax_text = axes(0, 0, W, H)  # in inches, y down
        self.ax_text.set_xlim(0, W)
        self.ax_text.set_ylim(H, 0)
        self.words = TextBatch(self.ax_text)
        text = self.words.text
        self.titles = {name: text(left, _TOP - 0.14, "", fontsize=fontsize - 0.5) for name, (left, _) in _BOXES.items()}
        self.formula = text(0.2, _TEXT_TOP, "", fontsize=fontsize, va="center")
        self.layer = text(0.2, _TEXT_TOP + 0.27, "", fontsize=fontsize - 1, va="center", family="monospace")
        self.layer.set_color(TRANSPOSED_COLORS["code"])
        self.lines = [text(0.2, _TEXT_TOP + 0.5 + 0.19 * k, "", fontsize=fontsize - 1.5, va="center") for k in range(5)]

    def _written(self, picture: TransposedPicture) -> None:
        self.formula.set_text(picture.formula)
        self.layer.set_text(picture.torch_line)
        notes = ([picture.problem] if picture.problem else []) + list(picture.notes)
        lines, colors = [], []
        for k, note in enumerate(notes):
            wrapped = wrap(note, 118)
            lines += wrapped
            colors += [TRANSPOSED_COLORS["problem"] if picture.problem and k == 0 else "#444444"] * len(wrapped)
        if len(lines) > len(self.lines):
            lines, colors = lines[: len(self.lines)], colors[: len(self.lines)]
            lines[-1] += " \u2026"
        for k, line in enumerate(self.lines):
            line.set_text(lines[k] if k < len(lines) else "")
            line.set_color(colors[k] if k < len(colors) else "#444444")

    def _titles(self, picture: TransposedPicture) -> None:
        two = picture.dims == 2
        shape = (lambda m: f"{m}\u00d7{m}") if two else str
        cell = f"({picture.cell_index[0]}, {picture.cell_index[1]})" if two else str(picture.cell_index[0])
        self.titles["input"].set_text(f"input {shape(picture.size)}, cell {cell}")
        kept = "no output" if picture.output_size is None else f"output {shape(picture.output_size)}"
        crop = f" (crop p = {picture.padding})" if picture.padding else ""
        self.titles["canvas"].set_text(f"copies: {shape(picture.canvas_size)} \u2192 {kept}{crop}")
        n = picture.direct.shape[0]
        self.titles["direct"].set_text(f"direct form: {shape(n)}")
        x = {"input": 0.2, "canvas": 2.3, "direct": 5.3}  # 1-D: one line across the top
        for name, (left, _) in _BOXES.items():
            self.titles[name].set_x(left if two else x[name])

    def update(self, picture: TransposedPicture) -> None:
        """Draw :class:`TransposedPicture` ``picture`` (1-D or 2-D) with the existing artists."""
        two = picture.dims == 2
        for ax in self.axes2d.values():
            ax.set_visible(two)
        self.ax_1d.set_visible(not two)
        self._written(picture)
        self._titles(picture)
        counts = picture.counts.reshape(-1).tolist()
        kind = picture.direct_kind.reshape(-1).numpy()
        direct_colors = np.empty((kind.size, 4))
        direct_colors[:] = mcolors.to_rgba(TRANSPOSED_COLORS["pad"])
        direct_colors[kind == 1] = mcolors.to_rgba(TRANSPOSED_COLORS["zero"])
        direct_colors[kind == 2] = mcolors.to_rgba(TRANSPOSED_COLORS["input"])
        direct_text = [COLORS["text"] if k == 2 else TRANSPOSED_COLORS["pad_text"] for k in kind]
        grids = {
            "input": ([str(v) for v in picture.input.reshape(-1).tolist()], None, None),
            "canvas": ([str(c) if c else "" for c in counts], _count_colors(picture), COLORS["text"]),
            "direct": (
                [str(v) if k == 2 else "" for v, k in zip(picture.direct.reshape(-1).tolist(), kind, strict=True)],
                direct_colors,
                direct_text,
            ),  # fmt: skip
        }
        if two:
            self._update2d(picture, grids)
        else:
            self._update1d(picture, grids)

    def _update2d(self, picture: TransposedPicture, grids) -> None:
        sides = {"input": picture.size, "canvas": picture.canvas_size, "direct": picture.direct.shape[0]}
        for name, (labels, colors, text_colors) in grids.items():
            n = sides[name]
            cell = fit_cells(self.axes2d[name], _BOXES[name][1], _GRIDS_H, n, n)
            if colors is None:
                colors = np.tile(mcolors.to_rgba(TRANSPOSED_COLORS["input"]), (n * n, 1))
                colors[picture.cell] = mcolors.to_rgba(TRANSPOSED_COLORS["cell"])
                text_colors = COLORS["text"]
            self.panels2d[name].show(n, n, colors, labels, text_colors, cell)
        r, c = picture.cell_index
        self.chosen2d.set_bounds(c, r, 1, 1)
        rows, cols = picture.stamp
        n = picture.canvas_size
        inset = cell_paths(n, n, 0.08)
        self.taps2d.set_cells(inset[int(r) * n + int(c)] for r in rows for c in cols)
        kept = picture.kept
        self.kept2d.set_visible(kept is not None)
        if kept is not None:
            self.kept2d.set_bounds(kept[0], kept[0], kept[1] - kept[0], kept[1] - kept[0])

    def _update1d(self, picture: TransposedPicture, grids) -> None:
        s, n, m = picture.stride, picture.canvas_size, picture.direct.shape[0]
        width = max(n, m, (picture.size - 1) * s + 1)
        cell = fit_cells(self.ax_1d, self.ax_1d.bbox.width / self.fig.dpi, _GRIDS_H, width, 5.2, left_pad=0.7)
        rows_y = {"input": 0.0, "canvas": 2.0, "direct": 4.0}
        for (name, (labels, colors, text_colors)), name_text in zip(grids.items(), self.row_names, strict=True):
            y = rows_y[name]
            name_text.set_position((-0.3, y + 0.5))
            if name == "input":  # each input cell where its copy starts on the canvas, s cells apart
                self._input_row(picture, labels, cell, y)
                continue
            self.panels1d[name].show(1, len(labels), colors, labels, text_colors, cell, (0.0, y))
        i = picture.cell_index[0]
        self.chosen1d.set_bounds(i * s, 0, 1, 1)
        shifted = np.asarray(cell_squares(1, n, 0.08)) + np.array([0.0, 2.0])  # the canvas row is at y = 2
        self.taps1d.set_verts(shifted[picture.stamp[0].numpy()])
        self.links1d.set_segments([[(i * s + 0.5, 1.0), (int(t) + 0.5, 2.0)] for t in picture.stamp[0]])
        kept = picture.kept
        self.kept1d.set_visible(kept is not None)
        if kept is not None:
            self.kept1d.set_bounds(kept[0], 2, kept[1] - kept[0], 1)

    def _input_row(self, picture: TransposedPicture, labels, cell: float, y: float) -> None:
        panel, s = self.panels1d["input"], picture.stride
        key = ("spread", picture.size, s, y)
        if panel.shape != key:
            squares = cell_paths(1, picture.size)
            panel.cells.set_cells(
                path.transformed(matplotlib.transforms.Affine2D().translate(k * (s - 1), y))
                for k, path in enumerate(squares)
            )
            panel.shape = key
        colors = np.tile(mcolors.to_rgba(TRANSPOSED_COLORS["input"]), (picture.size, 1))
        colors[picture.cell] = mcolors.to_rgba(TRANSPOSED_COLORS["cell"])
        if panel.colors is None or not np.array_equal(panel.colors, colors):
            panel.cells.set_facecolor(colors)
            panel.colors = colors
        size = number_size(cell)
        if panel.labelled == (key, size):
            return
        panel.labelled = (key, size)
        centres = np.stack([np.arange(picture.size) * s + 0.5, np.full(picture.size, y + 0.5)], axis=1)
        panel.numbers.set_labels(labels if size else [], centres if size else np.zeros((0, 2)), sizes=size or 10)


# --- the controls -------------------------------------------------------------------------------------------------


class TransposedExplorer(Explorer):
    """A transposed convolution, live: each input cell's kernel copy, the overlap counts, the direct form, the sizes.

    Controls: ``dims`` ('2-D' or '1-D'), ``size`` (the input's side: 1..6 in 2-D, 1..12 in 1-D), ``kernel_size``
    (1..5), ``stride`` (1..4), ``padding`` (0..4), ``output_padding`` (0..3), ``dilation`` (1..3) and ``cell``
    (the input cell whose copy is outlined, row-major in 2-D; its maximum follows the input size). ``readout``
    (HTML) holds the PyTorch layer. Every number comes from :func:`transposed_picture`; combinations torch
    refuses (output_padding not smaller than stride or dilation, padding that crops everything) are explained in
    the figure, the output frame hidden.
    """

    SIZE_RANGE = {"2-D": (1, 6), "1-D": (1, 12)}

    def __init__(
        self,
        dims: str = "2-D",
        *,
        size: int = 3,
        kernel_size: int = 3,
        stride: int = 2,
        padding: int = 0,
        output_padding: int = 0,
        dilation: int = 1,
        cell: int = 0,
    ):
        if dims not in ("2-D", "1-D"):
            raise ValueError(f"dims must be '2-D' or '1-D', got {dims!r}")
        low, high = self.SIZE_RANGE[dims]
        if not low <= size <= high:
            raise ValueError(f"size must be between {low} and {high} in {dims}, got {size}")
        self.dims = widgets.ToggleButtons(options=("2-D", "1-D"), value=dims, style={"button_width": "52px"})
        self.size = slider("input size", size, low, high)
        self.kernel_size = slider("kernel size", kernel_size, 1, 5)
        self.stride = slider("stride", stride, 1, 4)
        self.padding = slider("padding", padding, 0, 4)
        self.output_padding = slider("output pad", output_padding, 0, 3)
        self.dilation = slider("dilation", dilation, 1, 3)
        self.cell = slider("input cell", cell, 0, max(cell, size ** (2 if dims == "2-D" else 1) - 1))
        self.readout = widgets.HTML(layout=widgets.Layout(margin="2px 0 0 10px"))
        fig = matplotlib.figure.Figure(dpi=100)
        self.view = TransposedView(fig)
        self._show(
            fig,
            self.dims,
            widgets.HBox(
                [
                    widgets.VBox([self.size, self.kernel_size, self.stride]),
                    widgets.VBox([self.padding, self.output_padding, self.dilation]),
                    widgets.VBox([self.cell]),
                ]
            ),
            self.readout,
        )
        self.update()
        self._watch(self.controls().values())

    def controls(self) -> dict[str, widgets.ValueWidget]:
        """The controls by name."""
        return {
            "dims": self.dims,
            "size": self.size,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "output_padding": self.output_padding,
            "dilation": self.dilation,
            "cell": self.cell,
        }

    def picture(self) -> TransposedPicture:
        """What the controls' values give (:func:`transposed_picture`)."""
        return transposed_picture(
            1 if self.dims.value == "1-D" else 2,
            self.size.value,
            self.kernel_size.value,
            self.stride.value,
            self.padding.value,
            self.output_padding.value,
            self.dilation.value,
            self.cell.value,
        )

    def update(self) -> None:
        """Adapt the slider ranges, recompute the picture, update the figure in place, ask for one redraw."""
        with self._updating:
            low, high = self.SIZE_RANGE[self.dims.value]
            if (self.size.min, self.size.max) != (low, high):
                with self.size.hold_sync():
                    self.size.min, self.size.max = low, high
            self.current = picture = self.picture()
            with self.cell.hold_sync():
                self.cell.max = picture.last_cell
                self.cell.value = picture.cell
            self.view.update(picture)
            self.readout.value = f"PyTorch: <code>{escape(picture.torch_line)}</code>"
        self._redraw()

    def static_figure(self) -> matplotlib.figure.Figure:
        fig = matplotlib.figure.Figure(dpi=100)
        TransposedView(fig).update(self.picture())
        return fig

    def benchmark_steps(self):
        c = self.controls()
        return [
            *[(c["cell"], k) for k in range(9)],
            (c["kernel_size"], 4),
            (c["kernel_size"], 3),
            (c["stride"], 3),
            (c["stride"], 1),
            (c["stride"], 2),
            (c["padding"], 1),
            (c["output_padding"], 1),
            (c["output_padding"], 2),
            (c["output_padding"], 0),
            (c["dilation"], 2),
            (c["size"], 5),
            (c["dilation"], 1),
            (c["padding"], 0),
            (c["dims"], "1-D"),
            *[(c["cell"], k) for k in range(5)],
            (c["size"], 8),
            (c["kernel_size"], 4),
            (c["dims"], "2-D"),
            (c["size"], 3),
        ]

    def _widgets(self):
        yield from (*self.controls().values(), self.readout, self.canvas, self.canvas.toolbar)

    def __repr__(self) -> str:
        return (
            f"TransposedExplorer({self.dims.value}, size={self.size.value}, kernel_size={self.kernel_size.value}, "
            f"stride={self.stride.value}, padding={self.padding.value}, output_padding={self.output_padding.value}, "
            f"dilation={self.dilation.value}, cell={self.cell.value})"
        )
