"""The step-through explorer (lesson 01): the window moves over a 1-D signal and a 2-D image, one output
at a time, with the products and their sum written out; correlation or convolution (the kernel flipped).

Picture: :func:`step_equation` (and ``ops.window_step1d/2d``); view: :class:`StepThroughView`; controls:
:class:`StepThroughExplorer`."""

from __future__ import annotations

from html import escape

import ipywidgets as widgets
import matplotlib
import matplotlib.figure
import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from cnn_lessons import ops
from cnn_lessons.arithmetic import resolve_padding
from cnn_lessons.drawing.cells import Grid, cell_axes, outline
from cnn_lessons.drawing.style import COLORS, TIMES, format_number, term
from cnn_lessons.drawing.text import TextBatch
from cnn_lessons.explorers._base import Explorer

__all__ = [
    "step_equation",
    "StepThroughView",
    "MODES",
    "DEFAULT_SIGNAL",
    "DEFAULT_KERNEL",
    "DEFAULT_IMAGE",
    "DEFAULT_IMAGE_KERNEL",
    "StepThroughExplorer",
]


def step_equation(step, *, max_terms: int | None = None, html: bool = False) -> str:
    """The sum behind one output, written out: ``out[3] = 1·2 + 2·(−1) + (−1)·0 = 0``.

    ``step`` is a :class:`cnn_lessons.ops.WindowStep` (window values times kernel as applied). With more than
    ``max_terms`` products the middle is elided; ``html`` escapes the text and puts the result in bold.
    """
    index = ", ".join(str(i) for i in step.position)
    window = step.window.reshape(-1).tolist()
    kernel = step.kernel.reshape(-1).tolist()
    terms = [f"{term(a)}{TIMES}{term(b)}" for a, b in zip(window, kernel, strict=True)]
    if max_terms is not None and len(terms) > max_terms:
        keep = max(max_terms - 1, 1)
        terms = terms[: keep - keep // 2] + ["\u2026"] + (terms[-(keep // 2) :] if keep // 2 else [])
    left, total = f"out[{index}] = " + " + ".join(terms) + " = ", format_number(step.total)
    if html:
        return f"{escape(left)}<b>{escape(total)}</b>"
    return left + total


_LABEL_WIDTH = 2.7  # cell units left of the 1-D rows for their labels


_ROW_Y = {"input": 0.0, "kernel": 1.3, "product": 2.6, "output": 4.15}  # top of each 1-D row


_GAP = 1.3  # between the 2-D grids


_MARGIN = 0.3


class StepThroughView:
    """One output position of a 1-D and a 2-D correlation (or convolution), drawn cell by cell.

    Top: the (padded) signal with the window outlined, the kernel as applied right under the window, the
    element-wise products under that, an arrow (the sum) and the output row with the current cell outlined;
    outputs computed so far (earlier positions) are filled in, later ones blank. Bottom: the same for the 2-D
    image, with the kernel, products and output as separate grids to its right.

    Build it from two :class:`cnn_lessons.ops.WindowStep` (any position), then call :meth:`update` with new
    steps and the full outputs (``ops.correlate*`` or ``ops.convolve*``). Coordinates are cell units: in
    ``ax1d`` and ``ax2d`` the padded input's cell i (or (r, c)) covers [i, i + 1] (and [r, r + 1]), so the
    window outline's x (and y) is the window's first padded index.
    """

    def __init__(
        self,
        fig: Figure,
        step1d,
        step2d,
        *,
        padding1d=(0, 0),
        padding2d=((0, 0), (0, 0)),
        cell_inches: float | None = None,
        fontsize: float = 10,
    ):
        # long: makes every artist of both pictures once (1-D rows, 2-D grids, windows, products, arrows)
        self.fig = fig
        padded_len = step1d.padded.shape[0]
        kernel_len = step1d.kernel.shape[0]
        (out_len,) = step1d.output_shape
        (ph, pw), (kh, kw), (oh, ow) = step2d.padded.shape, step2d.kernel.shape, step2d.output_shape
        self._offset1d = (kernel_len - 1) / 2  # output i sits under the centre of its window

        # layout in cell units: the 1-D panel above the 2-D panel, both left-aligned
        out_left = self._offset1d
        w1 = _LABEL_WIDTH + max(padded_len, out_left + out_len) + _MARGIN
        h1 = _ROW_Y["output"] + 1 + 1.2 + _MARGIN  # rows plus the heading line above
        self._x2 = {"input": 0.0}
        self._x2["kernel"] = pw + _GAP
        self._x2["product"] = self._x2["kernel"] + kw + _GAP
        self._x2["output"] = self._x2["product"] + kw + _GAP
        w2 = self._x2["output"] + ow + 2 * _MARGIN  # the x limits start at -_MARGIN
        h2 = max(ph, kh, oh) + 1.9 + _MARGIN
        width, height = max(w1, w2) + 2 * _MARGIN, h1 + h2 + _MARGIN
        # at most 7.2 inches wide: ipympl sends every redraw as a PNG of the whole canvas, so pixels cost time
        cell = cell_inches if cell_inches is not None else min(0.36, 7.2 / width)
        self.figsize = (width * cell, height * cell)
        if tuple(fig.get_size_inches()) != self.figsize:
            fig.set_size_inches(*self.figsize)

        def panel(left, top, w, h, xlim, ylim):
            ax = fig.add_axes((left / width, 1 - (top + h) / height, w / width, h / height))
            cell_axes(ax, *xlim, *ylim)
            return ax

        self.ax1d = panel(_MARGIN, _MARGIN, w1, h1, (-_LABEL_WIDTH, w1 - _LABEL_WIDTH), (-1.2, h1 - 1.2))
        self.ax2d = panel(_MARGIN, _MARGIN + h1, w2, h2, (-_MARGIN, w2 - _MARGIN), (-1.9, h2 - 1.9))
        ax1, ax2 = self.ax1d, self.ax2d
        words1d, words2d = TextBatch(ax1), TextBatch(ax2)  # every label below drawn in one call per panel
        small = fontsize - 1

        # 1-D: rows, labels, window outline, sum arrow, current-output outline, heading
        self.input1d = Grid(ax1, (1, padded_len), y=_ROW_Y["input"], fontsize=fontsize)
        self.kernel1d = Grid(ax1, (1, kernel_len), y=_ROW_Y["kernel"], facecolor=COLORS["kernel"], fontsize=fontsize)
        self.product1d = Grid(ax1, (1, kernel_len), y=_ROW_Y["product"], facecolor=COLORS["product"], fontsize=fontsize)
        self.output1d = Grid(ax1, (1, out_len), x=out_left, y=_ROW_Y["output"], fontsize=fontsize)
        self.labels1d = {
            key: words1d.text(
                -0.25, _ROW_Y[key] + 0.5, text, ha="right", va="center", fontsize=small, color=COLORS["text"]
            )
            for key, text in (
                ("input", "input x"),
                ("kernel", "kernel w"),
                ("product", "products"),
                ("output", "output"),
            )
        }
        self.window1d = outline(ax1, fill_alpha=0.16)
        self.window1d.set_height(1)
        self.current1d = outline(ax1)
        self.current1d.set_height(1)
        self.arrow1d = FancyArrowPatch(
            (0, 0), (0, 1), arrowstyle="-|>", mutation_scale=11, color=COLORS["highlight"], linewidth=1.4, zorder=3
        )
        ax1.add_patch(self.arrow1d)
        self.sum1d = words1d.text(
            0, 0, "\u03a3", ha="left", va="center", fontsize=small, color=COLORS["highlight"], zorder=4
        )
        self.heading1d = words1d.text(
            -_LABEL_WIDTH, -0.6, "", ha="left", va="center", fontsize=fontsize + 0.5, color=COLORS["text"]
        )

        # 2-D: image, kernel, products, output grids with titles, outlines, heading
        self.input2d = Grid(ax2, (ph, pw), fontsize=fontsize)
        self.kernel2d = Grid(ax2, (kh, kw), x=self._x2["kernel"], facecolor=COLORS["kernel"], fontsize=fontsize)
        self.product2d = Grid(ax2, (kh, kw), x=self._x2["product"], facecolor=COLORS["product"], fontsize=fontsize)
        self.output2d = Grid(ax2, (oh, ow), x=self._x2["output"], fontsize=fontsize)
        self.titles2d = {
            key: words2d.text(self._x2[key], -0.3, text, ha="left", va="center", fontsize=small, color=COLORS["text"])
            for key, text in (
                ("input", "input x, window outlined"),
                ("kernel", "kernel w"),
                ("product", "products"),
                ("output", "output"),
            )
        }
        middle = kh / 2
        words2d.text(
            self._x2["kernel"] - _GAP / 2,
            middle,
            "\u2299",
            ha="center",
            va="center",
            fontsize=fontsize + 3,
            color=COLORS["text"],
        )  # the window times ...
        words2d.text(
            self._x2["product"] - _GAP / 2,
            middle,
            "=",
            ha="center",
            va="center",
            fontsize=fontsize + 3,
            color=COLORS["text"],
        )
        words2d.text(
            self._x2["output"] - _GAP / 2,
            middle,
            "\u03a3\u2192",
            ha="center",
            va="center",
            fontsize=fontsize + 1,
            color=COLORS["highlight"],
        )
        self.window2d = outline(ax2, fill_alpha=0.16)
        self.current2d = outline(ax2)
        self.heading2d = words2d.text(
            -_MARGIN, -1.3, "", ha="left", va="center", fontsize=fontsize + 0.5, color=COLORS["text"]
        )

        # padding cells: grey zeros, fixed for the life of the view
        (left1, right1) = padding1d
        self._pad1d = [[not (left1 <= i < padded_len - right1) for i in range(padded_len)]]
        (top2, bottom2), (left2, right2) = padding2d
        self._pad2d = [
            [not (top2 <= r < ph - bottom2 and left2 <= c < pw - right2) for c in range(pw)] for r in range(ph)
        ]
        for grid, pads in ((self.input1d, self._pad1d), (self.input2d, self._pad2d)):
            grid.set_facecolors([[COLORS["pad"] if p else COLORS["input"] for p in row] for row in pads])
            grid.set_textcolors([[COLORS["pad_text"] if p else COLORS["text"] for p in row] for row in pads])

    @staticmethod
    def _progress(grid: Grid, index: int):
        """(show mask, face colours) for outputs up to flat ``index`` filled in, the current one marked."""
        rows, cols = grid.shape
        flat = [[r * cols + c for c in range(cols)] for r in range(rows)]
        show = [[f <= index for f in row] for row in flat]
        faces = [
            [COLORS["current"] if f == index else COLORS["done"] if f < index else COLORS["todo"] for f in row]
            for row in flat
        ]
        return show, faces

    def update(
        self, step1d, step2d, output1d, output2d, *, flipped: bool = False, note1d: str = "", note2d: str = ""
    ) -> None:
        """Show ``step1d``/``step2d`` (:class:`cnn_lessons.ops.WindowStep`) and the outputs so far.

        ``output1d``/``output2d``: the full outputs, of which positions before the current one are shown
        (the current cell shows the step's own sum). ``flipped``: label the kernel as flipped (convolution).
        ``note1d``/``note2d``: appended to the headings.
        """
        word = "convolution" if flipped else "correlation"
        kernel_label = "w flipped" if flipped else "kernel w"

        # 1-D
        (i,) = step1d.position
        first = int(step1d.cols[0])
        span = int(step1d.cols[-1]) - first + 1
        self.input1d.set_values(step1d.padded)
        self.window1d.set_xy((first, _ROW_Y["input"]))
        self.window1d.set_width(span)
        self.kernel1d.move_to(first)
        self.kernel1d.set_values(step1d.kernel)
        self.product1d.move_to(first)
        self.product1d.set_values(step1d.products)
        show, faces = self._progress(self.output1d, i)
        values = torch.as_tensor(output1d).detach().cpu().clone().reshape(-1)
        values[i] = step1d.total
        self.output1d.set_values(values, show=show)
        self.output1d.set_facecolors(faces)
        out_x = self.output1d.x + i
        self.current1d.set_xy((out_x, _ROW_Y["output"]))
        self.arrow1d.set_positions((first + span / 2, _ROW_Y["product"] + 1.02), (out_x + 0.5, _ROW_Y["output"] - 0.02))
        self.sum1d.set_position(
            (max(first + span / 2, out_x + 0.5) + 0.15, (_ROW_Y["product"] + 1 + _ROW_Y["output"]) / 2)
        )
        self.labels1d["kernel"].set_text(kernel_label)
        equation = step_equation(step1d, max_terms=9)
        self.heading1d.set_text(f"1-D {word}:   {equation}{note1d}")

        # 2-D
        r, c = step2d.position
        top, left = int(step2d.rows[0]), int(step2d.cols[0])
        self.input2d.set_values(step2d.padded)
        self.window2d.set_bounds(left, top, int(step2d.cols[-1]) - left + 1, int(step2d.rows[-1]) - top + 1)
        self.kernel2d.set_values(step2d.kernel)
        self.product2d.set_values(step2d.products)
        out_h, out_w = step2d.output_shape
        show, faces = self._progress(self.output2d, r * out_w + c)
        values = torch.as_tensor(output2d).detach().cpu().clone()
        values[r, c] = step2d.total
        self.output2d.set_values(values, show=show)
        self.output2d.set_facecolors(faces)
        self.current2d.set_bounds(self.output2d.x + c, self.output2d.y + r, 1, 1)
        self.titles2d["kernel"].set_text(kernel_label)
        equation = step_equation(step2d, max_terms=9)
        self.heading2d.set_text(f"2-D {word}:   {equation}{note2d}")


MODES = ("correlation", "convolution")


DEFAULT_SIGNAL = (3, 1, 0, 2, 5, 4, 1, 2)


DEFAULT_KERNEL = (1, 2, -1)  # asymmetric: flipping it changes the result


DEFAULT_IMAGE = (
    (0, 1, 2, 3, 4, 5),
    (1, 0, 1, 2, 3, 4),
    (2, 1, 0, 1, 2, 3),
    (3, 2, 1, 0, 1, 2),
    (4, 3, 2, 1, 0, 1),
    (5, 4, 3, 2, 1, 0),
)


DEFAULT_IMAGE_KERNEL = ((1, 2, 0), (0, 1, 0), (0, -1, -1))  # not symmetric under a 180-degree turn


class StepThroughExplorer(Explorer):
    """Step through a correlation (or convolution) one output at a time, in 1-D and in 2-D.

    ``signal``/``kernel``: 1-D; ``image``/``image_kernel``: 2-D (anything ``torch.as_tensor`` takes; small
    integers keep the numbers readable). ``padding`` (an int, "valid", "same" or "full") applies to both.

    Controls: ``position`` (IntSlider) moves both windows; ``mode`` (ToggleButtons) picks correlation or
    convolution (the kernel flipped, ``flip=True``). ``readout`` (HTML) writes both sums out. The position
    runs over the larger of the two outputs: in 1-D it is the output index, held at the last one when the
    position runs past it; in 2-D it is the output cell in row-major order, ``(row, col) = divmod(position,
    out_width)``, held at the last cell likewise (see :meth:`positions`).
    """

    def __init__(self, signal=None, kernel=None, image=None, image_kernel=None, *, padding=0):
        self.signal = torch.as_tensor(DEFAULT_SIGNAL if signal is None else signal)
        self.kernel = torch.as_tensor(DEFAULT_KERNEL if kernel is None else kernel)
        self.image = torch.as_tensor(DEFAULT_IMAGE if image is None else image)
        self.image_kernel = torch.as_tensor(DEFAULT_IMAGE_KERNEL if image_kernel is None else image_kernel)
        self.padding = padding

        # every output once per mode; the steps at position 0 give the output sizes (ops checks the input)
        self.outputs = {
            "correlation": (
                ops.correlate1d(self.signal, self.kernel, padding=padding),
                ops.correlate2d(self.image, self.image_kernel, padding=padding),
            ),
            "convolution": (
                ops.convolve1d(self.signal, self.kernel, padding=padding),
                ops.convolve2d(self.image, self.image_kernel, padding=padding),
            ),
        }
        self.step1d = ops.window_step1d(self.signal, self.kernel, 0, padding=padding)
        self.step2d = ops.window_step2d(self.image, self.image_kernel, (0, 0), padding=padding)
        (self.length1d,) = self.step1d.output_shape
        self.shape2d = self.step2d.output_shape
        self.length2d = self.shape2d[0] * self.shape2d[1]

        self.position = widgets.IntSlider(
            value=0,
            min=0,
            max=max(self.length1d, self.length2d) - 1,
            description="position",
            layout=widgets.Layout(width="420px"),
        )
        self.mode = widgets.ToggleButtons(
            options=MODES,
            value=MODES[0],
            description="mode",
            tooltips=[
                "slide the kernel as it is (what torch's conv1d/conv2d compute)",
                "flip the kernel first (true convolution)",
            ],
            style={"button_width": "100px"},
        )
        self.readout = widgets.HTML(layout=widgets.Layout(margin="0 0 0 10px"))

        fig = matplotlib.figure.Figure(dpi=100)
        self.view = StepThroughView(
            fig,
            self.step1d,
            self.step2d,
            padding1d=resolve_padding(padding, len(self.kernel)),
            padding2d=tuple(resolve_padding(padding, k) for k in self.image_kernel.shape),
        )
        self._show(fig, widgets.HBox([self.position, self.mode]), self.readout)

        self.update()
        self._watch([self.position, self.mode])

    def positions(self, position: int | None = None) -> tuple[int, tuple[int, int]]:
        """The (1-D index, 2-D (row, col)) that slider ``position`` (default: its value) stands for."""
        position = self.position.value if position is None else position
        flat = min(position, self.length2d - 1)
        return min(position, self.length1d - 1), divmod(flat, self.shape2d[1])

    def update(self) -> None:
        """Recompute the two steps for the controls' values and update the picture in place."""
        self._render(self.view)
        mode = self.mode.value
        flip = mode == "convolution"
        how = (
            "the kernel slides as it is (this is what torch's conv1d/conv2d compute)"
            if not flip
            else "the kernel is flipped first (reversed in 1-D, turned 180\u00b0 in 2-D), then slid"
        )
        self.readout.value = (
            f"<b>{mode}</b>: {how}<br>"
            f"1-D: {step_equation(self.step1d, html=True)}<br>"
            f"2-D: {step_equation(self.step2d, html=True)}"
        )
        self._redraw()

    def _render(self, view: StepThroughView) -> None:
        """Compute the two steps for the controls' values and show them in ``view``."""
        mode = self.mode.value
        flip = mode == "convolution"
        index1d, index2d = self.positions()
        self.step1d = ops.window_step1d(self.signal, self.kernel, index1d, padding=self.padding, flip=flip)
        self.step2d = ops.window_step2d(self.image, self.image_kernel, index2d, padding=self.padding, flip=flip)
        out1d, out2d = self.outputs[mode]
        past1d = self.position.value > index1d
        past2d = self.position.value > index2d[0] * self.shape2d[1] + index2d[1]
        held = "  (its last output)"
        view.update(
            self.step1d,
            self.step2d,
            out1d,
            out2d,
            flipped=flip,
            note1d=held if past1d else "",
            note2d=held if past2d else "",
        )

    def static_figure(self) -> matplotlib.figure.Figure:
        fig = matplotlib.figure.Figure(dpi=100)
        view = StepThroughView(
            fig,
            self.step1d,
            self.step2d,
            padding1d=resolve_padding(self.padding, len(self.kernel)),
            padding2d=tuple(resolve_padding(self.padding, k) for k in self.image_kernel.shape),
        )
        self._render(view)
        return fig

    def benchmark_steps(self):
        positions = range(self.position.min, self.position.max + 1)
        return [
            *[(self.position, p) for p in positions],
            (self.mode, "convolution"),
            *[(self.position, p) for p in reversed(positions)],
            (self.mode, "correlation"),
        ]

    def _widgets(self):
        yield from (self.position, self.mode, self.readout, self.canvas, self.canvas.toolbar)

    def __repr__(self) -> str:
        return f"StepThroughExplorer(position={self.position.value}, mode={self.mode.value!r})"
