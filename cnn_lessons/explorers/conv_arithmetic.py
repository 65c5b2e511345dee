"""The convolution-arithmetic explorer (lesson 02): padding, stride, dilation and padding modes, 1-D, 2-D.

Picture: :func:`conv_picture` (sizes from :mod:`cnn_lessons.arithmetic`, padding as ``nn.Conv*d`` does it);
view: :class:`ConvArithmeticView`; controls: :class:`ConvArithmeticExplorer`."""

from __future__ import annotations

import dataclasses
from html import escape
from typing import NamedTuple

import ipywidgets as widgets
import matplotlib
import matplotlib.colors as mcolors
import matplotlib.figure
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cnn_lessons.arithmetic import (
    check_int,
    conv_output_size,
    effective_kernel_size,
    resolve_padding,
)
from cnn_lessons.drawing.cells import (
    CellCollection,
    cell_centres,
    cell_collection,
    cell_paths,
    cell_squares,
    fit_cells,
    number_size,
    outline_collection,
)
from cnn_lessons.drawing.style import COLORS, MINUS, TIMES
from cnn_lessons.drawing.text import GlyphLabels, TextBatch, button_width, wrap
from cnn_lessons.explorers._base import Explorer, slider
from cnn_lessons.ops import PADDING_MODES, pad_input, padding_mode_problem

__all__ = [
    "ARITHMETIC_COLORS",
    "PADDING_CHOICES",
    "demo_input",
    "ConvPicture",
    "torch_line",
    "output_size_formula",
    "ConvOutcome",
    "conv_outcome",
    "conv_picture",
    "ConvArithmeticView",
    "DIMS",
    "ConvArithmeticExplorer",
]


PADDING_CHOICES = ("custom", "valid", "same", "full")
"""How the padding is given: an int (``custom``), or one of the words (``full`` is d*(k-1) on every side; torch
has no such word, so its layer takes the int)."""


def _number(value: int) -> str:
    return f"{value}".replace("-", MINUS)


def demo_input(size: int, dims: int = 2) -> torch.Tensor:
    """The small integer input the explorers draw, ``size`` long (1-D) or ``size`` x ``size`` (2-D).

    1-D: 1, 2, ..., size. 2-D: cell (r, c) holds 10*(r + 1) + (c + 1), so 23 is row 2, column 3 (counted from 1)
    and a copy made by reflect, replicate or circular padding tells where it came from; 0 only ever appears as
    zero padding. Sizes up to 9 keep every 2-D value at two digits.
    """
    size = check_int("size", size)
    if dims == 1:
        return torch.arange(1, size + 1)
    if dims != 2:
        raise ValueError(f"dims must be 1 or 2, got {dims!r}")
    if size > 9:
        raise ValueError(f"a 2-D demo input holds 10*(row+1) + (col+1), so its size must be at most 9, got {size}")
    index = torch.arange(1, size + 1)
    return 10 * index[:, None] + index[None, :]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConvPicture:
    """What the convolution-arithmetic explorer shows for one configuration (sizes are per axis; 2-D is square).

    ``pads`` is None when the padding cannot be worked out ('same' with stride > 1); ``output_size`` is None and
    ``problem`` says why in words when torch refuses the configuration. ``padded`` holds the padded input's
    values (None when torch refuses the padding itself), ``is_padding`` marks its padding cells, ``taps`` the
    padded indices under the kernel at ``position`` (rows then columns in 2-D, the same as
    ``ops.window_step*``'s; empty when there is no output), ``reached`` per axis whether any tap of any output
    lands on that padded index, ``window_starts`` per output index its first tap's padded index.
    """

    dims: int
    size: int
    kernel_size: int
    stride: int
    padding: int | str
    dilation: int
    padding_mode: str
    input: torch.Tensor
    pads: tuple[int, int] | None
    padded_size: int
    span: int
    output_size: int | None
    problem: str | None = None
    position: tuple[int, ...] = ()
    flat_position: int = 0
    padded: torch.Tensor | None
    is_padding: torch.Tensor
    taps: tuple[torch.Tensor, ...]
    reached: torch.Tensor
    window_starts: tuple[int, ...] = ()
    formula: str
    notes: tuple[str, ...]
    torch_line: str

    @property
    def output_cells(self) -> int:
        """How many output positions there are (0 without an output)."""
        return 0 if self.output_size is None else self.output_size**self.dims

    @property
    def last_position(self) -> int:
        """The last output cell's flat index (0 without an output): a position slider's maximum."""
        return max(self.output_cells - 1, 0)


def torch_line(dims: int, kernel_size: int, stride: int, padding, dilation: int, padding_mode: str) -> str:
    """The layer that computes this configuration, e.g.
    ``nn.Conv2d(1, 1, kernel_size=3, stride=2, padding=1, dilation=1, padding_mode='zeros')``.

    ``padding`` is an int, "valid", "same" or "full" (which torch does not know: the line gives its int).
    """
    if padding == "full":
        padding = resolve_padding("full", kernel_size, stride, dilation)[0]
    shown = repr(padding) if isinstance(padding, str) else str(int(padding))
    return (
        f"nn.Conv{dims}d(1, 1, kernel_size={kernel_size}, stride={stride}, padding={shown}, dilation={dilation}, "
        f"padding_mode={padding_mode!r})"
    )


def output_size_formula(size: int, kernel_size: int, stride: int = 1, padding=0, dilation: int = 1) -> str:
    """o = ⌊(i + 2p − d(k−1) − 1)/s⌋ + 1 written out with the numbers, e.g.
    ``o = ⌊(i + 2p − d(k−1) − 1)/s⌋ + 1 = ⌊(7 + 2·1 − 1·(3−1) − 1)/2⌋ + 1 = ⌊6/2⌋ + 1 = 4``.

    Uneven padding ('same' with an odd d*(k-1)) is written p_l + p_r (left and right). Where the kernel does not
    fit, the numbers still go in and the result reads "< 1: no output". 'same' with stride > 1 raises ValueError
    (:func:`cnn_lessons.arithmetic.resolve_padding`'s explanation). A (left, right) pair is taken as resolved.
    """
    left, right = padding if isinstance(padding, tuple) else resolve_padding(padding, kernel_size, stride, dilation)
    span = effective_kernel_size(kernel_size, dilation)
    spread = f"{dilation}{TIMES}({kernel_size}{MINUS}1)"
    if left == right:
        symbols, padded = "i + 2p", f"{size} + 2{TIMES}{left}"
    else:
        symbols, padded = "i + p_l + p_r", f"{size} + {left} + {right}"
    general = f"o = \u230a({symbols} {MINUS} d(k{MINUS}1) {MINUS} 1)/s\u230b + 1"
    numerator = size + left + right - span
    filled = f"\u230a({padded} {MINUS} {spread} {MINUS} 1)/{stride}\u230b + 1"
    if numerator < 0:
        return f"{general} = {filled} = \u230a{_number(numerator)}/{stride}\u230b + 1 < 1: no output"
    out = numerator // stride + 1
    return f"{general} = {filled} = \u230a{numerator}/{stride}\u230b + 1 = {out}"


class ConvOutcome(NamedTuple):
    """What torch makes of one convolution along one axis: its padding (left, right), the padded length, the output
    length, or why it refuses (``output_size`` None, ``problem`` in words; ``pads`` None when not even the padding
    can be worked out)."""

    pads: tuple[int, int] | None
    padded_size: int
    output_size: int | None
    problem: str | None


def conv_outcome(size: int, kernel_size: int, stride: int = 1, padding=0, dilation: int = 1, padding_mode="zeros"):
    """:class:`ConvOutcome` of ``nn.Conv1d/2d(..., padding=padding, padding_mode=padding_mode)`` along an axis of
    ``size`` (2-D explorers are square: the same on both axes). Never raises for a configuration torch refuses:
    the reason comes from :mod:`cnn_lessons.arithmetic`'s ValueError or :func:`padding_mode_problem`, checked in
    torch's order (the padding mode first, as ``nn.Conv*d`` pads before it convolves)."""
    try:
        pads = resolve_padding(padding, kernel_size, stride, dilation)
    except ValueError as error:  # 'same' with stride > 1
        return ConvOutcome(pads=None, padded_size=size, output_size=None, problem=str(error))
    padded_size = size + pads[0] + pads[1]
    problem = padding_mode_problem(size, *pads, padding_mode)
    if problem is not None:
        return ConvOutcome(pads=pads, padded_size=padded_size, output_size=None, problem=problem)
    try:
        output_size = conv_output_size(size, kernel_size, stride, padding, dilation)
    except ValueError as error:
        return ConvOutcome(pads=pads, padded_size=padded_size, output_size=None, problem=str(error))
    return ConvOutcome(pads=pads, padded_size=padded_size, output_size=output_size, problem=None)


def _padding_note(dims: int, kernel_size: int, padding, pads: tuple[int, int], dilation: int) -> str:
    sides = "every side" if dims == 2 else "both ends"
    total = effective_kernel_size(kernel_size, dilation) - 1
    spread = f"d(k{MINUS}1) = {dilation}{TIMES}({kernel_size}{MINUS}1) = {total}"
    if padding == "valid":
        return "padding='valid': no padding, p = 0"
    if padding == "full":
        return f"'full' (no such word in torch: the layer takes the int): p = {spread} on {sides}"
    if padding == "same":
        left, right = pads
        first, last = ("top/left", "bottom/right") if dims == 2 else ("left", "right")
        split = "" if left == right else ": torch puts the odd one at the end"
        return (
            f"padding='same': total {spread}, split {left} on the {first} (\u230a{total}/2\u230b), "
            f"{right} on the {last}{split}"
        )
    return f"padding p = {padding} on {sides}"


def _reached(padded_size: int, output_size: int, kernel_size: int, stride: int, dilation: int):
    """Per padded index: is it under some tap of some output? And each output's first tap."""
    starts = torch.arange(output_size) * stride
    taps = (starts[:, None] + dilation * torch.arange(kernel_size)[None, :]).reshape(-1)
    reached = torch.zeros(padded_size, dtype=torch.bool)
    reached[taps] = True
    return reached, tuple(starts.tolist())


def _unreached_note(dims: int, unreached: list[int], pads, span: int, stride: int, dilation: int) -> str:
    padded_size = sum(pads)  # (left, right, input size)
    numerator = padded_size - span
    left_over = numerator % stride
    padding = "2p" if pads[0] == pads[1] else "p_l + p_r"
    if unreached == list(range(padded_size - left_over, padded_size)):  # only the end: the last window stops short
        what = (
            ("row and column" if left_over == 1 else "rows and columns")
            if dims == 2
            else "cell" + "s" * (left_over > 1)
        )
        return (
            f"(i + {padding} {MINUS} d(k{MINUS}1) {MINUS} 1) = {numerator} is not a multiple of s = {stride}: the last "
            f"{left_over} {what} of the padded input never fall under a tap"
        )
    which = "rows and columns" if dims == 2 else "padded cells"
    where = ", ".join(str(i) for i in unreached)
    return f"{which} {where} never fall under a tap (stride {stride}, dilation {dilation}): the kernel steps over them"


def conv_picture(
    dims: int,
    size: int,
    kernel_size: int,
    stride: int = 1,
    padding=0,
    dilation: int = 1,
    padding_mode: str = "zeros",
    position: int = 0,
) -> ConvPicture:
    """Everything the convolution-arithmetic explorer draws for one configuration, on :func:`demo_input`.

    ``padding``: an int, "valid", "same" or "full"; ``position``: the output cell to show, row-major in 2-D,
    held at the last cell when it is past the end. Never raises for a configuration torch refuses: ``problem``
    says why instead (from the ValueError of :mod:`cnn_lessons.arithmetic` or :func:`padding_mode_problem`).
    """
    # long: one pass from the configuration to every record field; the steps share the padding resolved once
    if dims not in (1, 2):
        raise ValueError(f"dims must be 1 or 2, got {dims!r}")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
    x = demo_input(size, dims)
    span = effective_kernel_size(kernel_size, dilation)
    outcome = conv_outcome(size, kernel_size, stride, padding, dilation, padding_mode)  # padding resolved once
    pads, padded_size, output_size = outcome.pads, outcome.padded_size, outcome.output_size
    line = torch_line(dims, kernel_size, stride, padding, dilation, padding_mode)
    if pads is None:  # 'same' with stride > 1: draw the input alone
        formula = f"o = \u230a(i + 2p {MINUS} d(k{MINUS}1) {MINUS} 1)/s\u230b + 1: no p fits"
        notes = ("padding='same' keeps the size only with stride 1",)
    else:
        formula = output_size_formula(size, kernel_size, stride, pads, dilation)
        notes = (_padding_note(dims, kernel_size, padding, pads, dilation),)
        if dilation > 1:
            notes += (
                f"dilation {dilation}: the {kernel_size} taps spread over d(k{MINUS}1) + 1 = {span} cells, "
                f"{dilation - 1} cell{'s' if dilation > 2 else ''} apart",
            )
    is_padding = torch.ones((padded_size,) * dims, dtype=torch.bool)
    inner = slice(pads[0], pads[0] + size) if pads else slice(0, size)
    is_padding[(inner,) * dims] = False
    padded = x if pads is None else None
    if pads is not None and padding_mode_problem(size, *pads, padding_mode) is None:
        padded = pad_input(x, [pads] * dims, padding_mode)
    same = dict(dims=dims, size=size, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation)
    same.update(padding_mode=padding_mode, input=x, pads=pads, padded_size=padded_size, span=span, padded=padded)
    same.update(is_padding=is_padding, formula=formula, torch_line=line)
    if output_size is None:
        empty = torch.zeros(0, dtype=torch.long)
        no_taps = torch.zeros(padded_size, dtype=torch.bool)
        return ConvPicture(
            **same, output_size=None, problem=outcome.problem, taps=(empty,) * dims, reached=no_taps, notes=notes
        )

    flat = min(check_int("position", position, minimum=0), output_size**dims - 1)
    index = (flat,) if dims == 1 else divmod(flat, output_size)
    reached, starts = _reached(padded_size, output_size, kernel_size, stride, dilation)
    taps = tuple(starts[i] + dilation * torch.arange(kernel_size) for i in index)  # rows, then columns
    unreached = (~reached).nonzero().flatten().tolist()
    if unreached:
        notes = (*notes, _unreached_note(dims, unreached, (*pads, size), span, stride, dilation))
    return ConvPicture(
        **same,
        output_size=output_size,
        position=index,
        flat_position=flat,
        taps=taps,
        reached=reached,
        window_starts=starts,
        notes=notes,
    )


ARITHMETIC_COLORS = {
    "input": "#ffffff",
    "pad": "#e2e2e2",
    "pad_text": "#6f6f6f",
    "tap": COLORS["kernel"],
    "unreached": "#f8d9d9",  # an input cell no tap ever lands on
    "unreached_pad": "#dcc6c6",  # the same for a padding cell
    "output": "#ffffff",
    "current": COLORS["current"],
    "none": "#c9c9c9",  # greyed: no output
    "problem": "#9c2a00",
    "border": "#4a4a4a",  # the unpadded input's outline
    "formula": COLORS["text"],
    "code": "#1f4e79",
}


_FIG_W, _FIG_H = 7.4, 4.55  # inches: every pixel costs time in ipympl's PNG frames


_TOP = 0.42  # panel titles above this line (inches from the top)


_GRIDS_H = 2.6  # height of the grid panels


_TEXT_TOP = _TOP + _GRIDS_H + 0.52  # the written-out lines start here


class ConvArithmeticView:
    """One convolution's arithmetic, drawn: the padded input, the kernel taps, the output, the formula, the layer.

    2-D: the padded input grid (padding cells grey, holding the values the padding mode puts there; the unpadded
    input outlined), the kernel's taps at the chosen output cell outlined one by one (dilation shows as gaps),
    cells that no tap of any output reaches tinted red; the output grid with the chosen cell highlighted. 1-D: the
    padded input row and, under it, the output row, each output cell centred under its window, lines from the
    taps to the chosen cell. Below both: the output-size formula with the numbers filled in, notes (padding,
    dilation, unreached cells), the PyTorch layer and, when torch refuses the configuration, why in words, the
    output greyed out.

    :meth:`update` takes a :class:`ConvPicture` and changes the existing artists only: a few
    collections, each drawing all its cells or labels in one call, so a redraw takes milliseconds.
    """

    def __init__(self, fig: Figure, *, fontsize: float = 10):
        # long: makes every artist of the picture once (grids, taps, formula, notes), laid out in one place
        self.fig = fig
        self.fontsize = fontsize
        self.figsize = (_FIG_W, _FIG_H)
        if tuple(fig.get_size_inches()) != self.figsize:
            fig.set_size_inches(*self.figsize)
        W, H = self.figsize

        def axes(box):
            left, top, w, h = box
            ax = fig.add_axes((left / W, 1 - (top + h) / H, w / W, h / H))
            ax.set_axis_off()
            return ax

        self.boxes = {"input2d": (0.15, _TOP, 4.15, _GRIDS_H), "output2d": (4.5, _TOP, 2.75, _GRIDS_H)}
        self.boxes["1d"] = (0.15, _TOP, 7.1, _GRIDS_H)
        self.ax_input2d = axes(self.boxes["input2d"])
        self.ax_output2d = axes(self.boxes["output2d"])
        self.ax_1d = axes(self.boxes["1d"])
        self.ax_text = axes((0, 0, W, H))  # in inches, y down: titles, legend, the written-out lines
        self.ax_text.set_xlim(0, W)
        self.ax_text.set_ylim(H, 0)
        muted = "#555555"

        # 2-D: input cells, their numbers, the taps, the unpadded input's outline; the output cells, the current one
        self.cells2d = cell_collection(self.ax_input2d)
        self.numbers2d = GlyphLabels(self.ax_input2d)
        self.taps2d = outline_collection(self.ax_input2d)
        self.border2d = self._border(self.ax_input2d)
        self.out_cells2d = cell_collection(self.ax_output2d)
        self.current2d = outline_collection(self.ax_output2d)
        self.no_output2d = Rectangle((0, 0), 5, 5, facecolor=ARITHMETIC_COLORS["none"], edgecolor="none")
        self.ax_output2d.add_patch(self.no_output2d)
        self.words2d = TextBatch(self.ax_output2d)
        self.no_output_text2d = self.words2d.text(2.5, 2.5, "no output", ha="center", va="center", color=muted)
        # 1-D: both rows in one axes, the output row below the input row
        self.cells1d = cell_collection(self.ax_1d)
        self.numbers1d = GlyphLabels(self.ax_1d)
        self.taps1d = outline_collection(self.ax_1d)
        self.border1d = self._border(self.ax_1d)
        self.links1d = LineCollection([], colors=COLORS["highlight"], linewidths=1.1, alpha=0.8, zorder=2)
        self.ax_1d.add_collection(self.links1d, autolim=False)
        self.out_cells1d = cell_collection(self.ax_1d)
        self.current1d = outline_collection(self.ax_1d)
        self.no_output1d = Rectangle((0, 0), 1, 1, facecolor=ARITHMETIC_COLORS["none"], edgecolor="none")
        self.ax_1d.add_patch(self.no_output1d)
        self.words1d = TextBatch(self.ax_1d)
        self.input_label1d = self.words1d.text(0, 0.5, "input", ha="right", va="center", fontsize=fontsize)
        self.output_label1d = self.words1d.text(0, 0, "output", ha="right", va="center", fontsize=fontsize)
        self.no_output_text1d = self.words1d.text(0, 0, "no output", ha="center", va="center", color=muted)

        # words: titles, legend, the formula and notes, the layer, the problem
        self.words = TextBatch(self.ax_text)
        text = self.words.text
        self.input_title = text(0.2, _TOP - 0.14, "", fontsize=fontsize + 0.5)
        self.output_title = text(self.boxes["output2d"][0], _TOP - 0.14, "", fontsize=fontsize + 0.5)
        legend_y = _TOP + _GRIDS_H + 0.2
        names = {
            "input": "input",
            "pad": "padding",
            "tap": "kernel taps",
            "unreached": "never under a tap",
            "current": "output shown",
        }
        swatches, self.legend_labels, x = [], {}, 0.2
        for key, name in names.items():
            swatches.append([(x, legend_y - 0.07), (x + 0.14, legend_y - 0.07), (x + 0.14, legend_y + 0.07),
                             (x, legend_y + 0.07)])  # fmt: skip
            self.legend_labels[key] = text(x + 0.21, legend_y, name, va="center", fontsize=fontsize - 1)
            x += 0.45 + 0.072 * len(name) + (0.7 if key == "pad" else 0)
        edge, mark = COLORS["edge"], COLORS["highlight"]
        self.legend = CellCollection(
            swatches,
            facecolors=[ARITHMETIC_COLORS[key] for key in names],
            edgecolors=[edge, edge, mark, edge, mark],
            linewidths=[0.8, 0.8, 1.6, 0.8, 1.6],
        )
        self.ax_text.add_collection(self.legend, autolim=False)
        self.formula = text(0.2, _TEXT_TOP, "", fontsize=fontsize + 1, va="center")
        self.layer = text(0.2, _TEXT_TOP + 0.28, "", fontsize=fontsize - 1, va="center", family="monospace")
        self.layer.set_color(ARITHMETIC_COLORS["code"])
        # why torch refuses (in red), else the notes on padding, dilation and unreached cells
        self.lines = [text(0.2, _TEXT_TOP + 0.53 + 0.2 * k, "", fontsize=fontsize - 0.5, va="center") for k in range(3)]
        self._geometry = None

    @staticmethod
    def _border(ax: Axes) -> Rectangle:
        border = Rectangle((0, 0), 1, 1, facecolor="none", edgecolor=ARITHMETIC_COLORS["border"], linewidth=1.6)
        border.set_zorder(2.5)
        ax.add_patch(border)
        return border

    @staticmethod
    def _input_colors(picture) -> tuple[np.ndarray, np.ndarray]:
        """RGBA per padded cell (row-major) and the padding mask, flattened."""
        pad = picture.is_padding.reshape(-1).numpy()
        colors = np.empty((pad.size, 4))
        colors[:] = mcolors.to_rgba(ARITHMETIC_COLORS["input"])
        colors[pad] = mcolors.to_rgba(ARITHMETIC_COLORS["pad"])
        if picture.output_size is not None:
            axis = picture.reached.numpy()
            reached = (axis[:, None] & axis[None, :]).reshape(-1) if picture.dims == 2 else axis
            colors[~reached & ~pad] = mcolors.to_rgba(ARITHMETIC_COLORS["unreached"])
            colors[~reached & pad] = mcolors.to_rgba(ARITHMETIC_COLORS["unreached_pad"])
            n = picture.padded_size
            tap = np.zeros((n,) * picture.dims, dtype=bool)
            tap[np.ix_(*(t.numpy() for t in picture.taps))] = True
            colors[tap.reshape(-1)] = mcolors.to_rgba(ARITHMETIC_COLORS["tap"])
        return colors, pad

    @staticmethod
    def _numbers(labels: GlyphLabels, picture, pad, centres, size) -> None:
        """Each cell's value (padding cells in grey); the padding stays empty where torch refuses to pad."""
        if size == 0:  # cells too small to read: colours only
            labels.set_labels([], np.zeros((0, 2)))
            return
        if picture.padded is not None:
            values = [str(int(v)) for v in picture.padded.reshape(-1).tolist()]
        else:
            values = np.full(pad.size, "", dtype=object)
            values[~pad] = [str(int(v)) for v in picture.input.reshape(-1).tolist()]
        text, pad_text = COLORS["text"], ARITHMETIC_COLORS["pad_text"]
        labels.set_labels(list(values), centres, sizes=size, colors=[pad_text if p else text for p in pad])

    def _titles(self, picture, x_output: float) -> None:
        pads, size, n = picture.pads or (0, 0), picture.size, picture.padded_size
        shape = (lambda m: f"{m}\u00d7{m}") if picture.dims == 2 else str
        if not any(pads):
            self.input_title.set_text(f"input {shape(size)}, no padding")
        else:
            padding = f"padding {pads[0]}" if pads[0] == pads[1] else f"padding {pads[0]} before, {pads[1]} after"
            self.input_title.set_text(f"input {shape(size)} + {padding} ({picture.padding_mode}) = {shape(n)}")
        self.output_title.set_x(x_output)
        o = picture.output_size
        if o is None:
            self.output_title.set_text("output: none")
        elif picture.dims == 2:
            self.output_title.set_text(f"output {shape(o)}, showing ({picture.position[0]}, {picture.position[1]})")
        else:
            self.output_title.set_text(f"output {o}, showing {picture.position[0]}")

    def _written(self, picture) -> None:
        self.formula.set_text(picture.formula)
        self.layer.set_text(picture.torch_line)
        if picture.problem:
            lines, color = wrap(picture.problem, 98), ARITHMETIC_COLORS["problem"]
        else:
            lines, color = [line for note in picture.notes for line in wrap(note, 104)], "#444444"
        if len(lines) > len(self.lines):
            lines = lines[: len(self.lines)]
            lines[-1] += " \u2026"
        for text, line in zip(self.lines, lines + [""] * (len(self.lines) - len(lines)), strict=True):
            text.set_text(line)
            text.set_color(color)
        self.legend_labels["pad"].set_text(f"padding ({picture.padding_mode})")

    def update(self, picture) -> None:
        """Draw :class:`ConvPicture` ``picture`` (1-D or 2-D) with the existing artists."""
        two = picture.dims == 2
        self.ax_input2d.set_visible(two)
        self.ax_output2d.set_visible(two)
        self.ax_1d.set_visible(not two)
        self._written(picture)
        self._titles(picture, self.boxes["output2d"][0] if two else 4.3)
        colors, pad = self._input_colors(picture)
        if two:
            self._update2d(picture, colors, pad)
        else:
            self._update1d(picture, colors, pad)

    def _update2d(self, picture, colors, pad) -> None:
        n, o = picture.padded_size, picture.output_size
        cell = fit_cells(self.ax_input2d, *self.boxes["input2d"][2:], n, n)
        if self._geometry != ("2d", n):
            self.cells2d.set_cells(cell_paths(n, n))
            self._geometry = ("2d", n)
        self.cells2d.set_facecolor(colors)
        self._numbers(self.numbers2d, picture, pad, cell_centres(n, n), number_size(cell))
        first = picture.pads[0] if picture.pads else 0
        self.border2d.set_bounds(first, first, picture.size, picture.size)
        if o is None:
            fit_cells(self.ax_output2d, *self.boxes["output2d"][2:], 5, 5)
            for collection in (self.taps2d, self.out_cells2d, self.current2d):
                collection.set_cells([])
            self.no_output2d.set_visible(True)
            self.no_output_text2d.set_visible(True)
            return
        rows, cols = (t.numpy() for t in picture.taps)
        inset = cell_paths(n, n, 0.07)
        self.taps2d.set_cells(inset[r * n + c] for r in rows for c in cols)
        fit_cells(self.ax_output2d, *self.boxes["output2d"][2:], o, o)
        squares = cell_paths(o, o)
        self.out_cells2d.set_cells(squares)
        faces = np.tile(mcolors.to_rgba(ARITHMETIC_COLORS["output"]), (o * o, 1))
        faces[picture.flat_position] = mcolors.to_rgba(ARITHMETIC_COLORS["current"])
        self.out_cells2d.set_facecolor(faces)
        self.current2d.set_cells(squares[picture.flat_position : picture.flat_position + 1])
        self.no_output2d.set_visible(False)
        self.no_output_text2d.set_visible(False)

    def _update1d(self, picture, colors, pad) -> None:
        n, o = picture.padded_size, picture.output_size
        out_y = 2.3  # the output row's top; the input row is y 0..1
        cell = fit_cells(self.ax_1d, *self.boxes["1d"][2:], n, out_y + 1.2, left_pad=0.75, middle=True)
        if self._geometry != ("1d", n):
            self.cells1d.set_cells(cell_paths(1, n))
            self._geometry = ("1d", n)
        self.cells1d.set_facecolor(colors)
        self._numbers(self.numbers1d, picture, pad, cell_centres(1, n), number_size(cell))
        first = picture.pads[0] if picture.pads else 0
        self.border1d.set_bounds(first, 0, picture.size, 1)
        label_x = -0.3
        self.input_label1d.set_position((label_x, 0.5))
        self.output_label1d.set_position((label_x, out_y + 0.5))
        if o is None:
            for collection in (self.taps1d, self.out_cells1d, self.current1d):
                collection.set_cells([])
            self.links1d.set_segments([])
            self.no_output1d.set_bounds(0, out_y, n, 1)
            self.no_output1d.set_visible(True)
            self.no_output_text1d.set_position((n / 2, out_y + 0.5))
            self.no_output_text1d.set_visible(True)
            return
        taps = picture.taps[0].numpy()
        inset = cell_paths(1, n, 0.07)
        self.taps1d.set_cells(inset[t] for t in taps)
        lefts = np.asarray(picture.window_starts, dtype=float) + (picture.span - 1) / 2  # centred under the window
        squares = cell_squares(1, o) + np.stack([lefts - np.arange(o), np.full(o, out_y)], axis=1)[:, None, :]
        self.out_cells1d.set_verts(squares)
        i = picture.flat_position
        faces = np.tile(mcolors.to_rgba(ARITHMETIC_COLORS["output"]), (o, 1))
        faces[i] = mcolors.to_rgba(ARITHMETIC_COLORS["current"])
        self.out_cells1d.set_facecolor(faces)
        self.current1d.set_verts(squares[i : i + 1])
        self.links1d.set_segments([[(t + 0.5, 1.0), (lefts[i] + 0.5, out_y)] for t in taps])
        self.no_output1d.set_visible(False)
        self.no_output_text1d.set_visible(False)


DIMS = ("2-D", "1-D")


class ConvArithmeticExplorer(Explorer):
    """Padding, stride and dilation of one convolution, live: the padded input, the taps, the output, the formula.

    Controls: ``dims`` ('2-D' or '1-D'), ``size`` (the input's side: 1..9 in 2-D, 1..20 in 1-D), ``kernel_size``
    (1..5), ``padding`` (0..4, used when ``padding_choice`` is 'custom'), ``padding_choice`` ('custom', 'valid',
    'same', 'full'), ``stride`` (1..4), ``dilation`` (1..3), ``padding_mode`` ('zeros', 'reflect', 'replicate',
    'circular') and ``position`` (the output cell shown: its index, row-major in 2-D; its maximum follows the
    output size). ``readout`` (HTML) holds the PyTorch layer, ready to copy.

    Every number comes from :func:`conv_picture` (sizes from arithmetic, padding from ops); the input
    is :func:`demo_input`, small integers, so the values that reflect, replicate and circular
    padding copy are recognisable. Combinations torch refuses are explained in the figure, the output greyed out.
    """

    SIZE_RANGE = {"2-D": (1, 9), "1-D": (1, 20)}

    def __init__(
        self,
        dims: str = "2-D",
        *,
        size: int = 7,
        kernel_size: int = 3,
        padding: int = 1,
        stride: int = 2,
        dilation: int = 1,
        padding_choice: str = "custom",
        padding_mode: str = "zeros",
        position: int = 0,
    ):
        if dims not in DIMS:
            raise ValueError(f"dims must be one of {DIMS}, got {dims!r}")
        low, high = self.SIZE_RANGE[dims]
        if not low <= size <= high:
            raise ValueError(f"size must be between {low} and {high} in {dims}, got {size}")
        self.dims = widgets.ToggleButtons(options=DIMS, value=dims, style={"button_width": button_width(DIMS)})
        self.size = slider("input size", size, low, high)
        self.kernel_size = slider("kernel size", kernel_size, 1, 5)
        self.padding = slider("padding", padding, 0, 4)
        self.stride = slider("stride", stride, 1, 4)
        self.dilation = slider("dilation", dilation, 1, 3)
        self.position = slider("output cell", position, 0, position)  # update() sets the real maximum
        self.padding_choice = widgets.ToggleButtons(
            options=PADDING_CHOICES,
            value=padding_choice,
            description="padding",
            tooltips=[
                "the padding slider's value on every side",
                "no padding",
                "d(k-1) in total, so that stride 1 keeps the size",
                "d(k-1) on every side: every tap meets every input cell",
            ],
            style={"button_width": button_width(PADDING_CHOICES), "description_width": "60px"},
        )
        self.padding_mode = widgets.ToggleButtons(
            options=PADDING_MODES,
            value=padding_mode,
            description="mode",
            style={"button_width": button_width(PADDING_MODES), "description_width": "40px"},
        )
        self.readout = widgets.HTML(layout=widgets.Layout(margin="2px 0 0 10px"))
        wrapping = widgets.Layout(flex_flow="row wrap")  # the toggles' row wraps on a narrow page
        fig = matplotlib.figure.Figure(dpi=100)
        self.view = ConvArithmeticView(fig)
        self._show(
            fig,
            widgets.HBox([self.dims, self.padding_choice, self.padding_mode], layout=wrapping),
            widgets.HBox(
                [
                    widgets.VBox([self.size, self.kernel_size, self.padding]),
                    widgets.VBox([self.stride, self.dilation, self.position]),
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
            "padding": self.padding,
            "padding_choice": self.padding_choice,
            "stride": self.stride,
            "dilation": self.dilation,
            "padding_mode": self.padding_mode,
            "position": self.position,
        }

    def picture(self) -> ConvPicture:
        """What the controls' values give (:func:`conv_picture`)."""
        choice = self.padding_choice.value
        return conv_picture(
            1 if self.dims.value == "1-D" else 2,
            self.size.value,
            self.kernel_size.value,
            self.stride.value,
            self.padding.value if choice == "custom" else choice,
            self.dilation.value,
            self.padding_mode.value,
            self.position.value,
        )

    def update(self) -> None:
        """Adapt the slider ranges, recompute the picture, update the figure in place, ask for one redraw."""
        with self._updating:
            low, high = self.SIZE_RANGE[self.dims.value]
            if (self.size.min, self.size.max) != (low, high):
                with self.size.hold_sync():
                    self.size.min, self.size.max = low, high
            self.padding.disabled = self.padding_choice.value != "custom"
            self.current = picture = self.picture()
            with self.position.hold_sync():
                self.position.max = picture.last_position
                self.position.value = picture.flat_position
                self.position.disabled = picture.output_size is None
            self.view.update(picture)
            self.readout.value = f"PyTorch: <code>{escape(picture.torch_line)}</code>"
        self._redraw()

    def static_figure(self) -> matplotlib.figure.Figure:
        fig = matplotlib.figure.Figure(dpi=100)
        ConvArithmeticView(fig).update(self.picture())
        return fig

    def benchmark_steps(self):
        c = self.controls()
        return [
            *[(c["position"], p) for p in range(16)],
            (c["stride"], 1),
            (c["kernel_size"], 4),
            (c["dilation"], 2),
            (c["padding_choice"], "same"),
            (c["padding_mode"], "reflect"),
            (c["size"], 9),
            (c["padding_mode"], "circular"),
            (c["padding_choice"], "full"),
            (c["dilation"], 1),
            (c["padding_choice"], "custom"),
            (c["kernel_size"], 3),
            (c["dims"], "1-D"),
            *[(c["position"], p) for p in range(0, 9, 2)],
            (c["size"], 16),
            (c["stride"], 2),
            (c["padding_mode"], "zeros"),
            (c["dims"], "2-D"),
            (c["size"], 7),
        ]

    def _widgets(self):
        yield from (*self.controls().values(), self.readout, self.canvas, self.canvas.toolbar)

    def __repr__(self) -> str:
        choice = self.padding_choice.value
        padding = self.padding.value if choice == "custom" else repr(choice)
        return (
            f"ConvArithmeticExplorer({self.dims.value}, size={self.size.value}, kernel_size={self.kernel_size.value}, "
            f"stride={self.stride.value}, padding={padding}, dilation={self.dilation.value}, "
            f"padding_mode={self.padding_mode.value!r}, position={self.position.value})"
        )
