"""Matplotlib drawing for the lessons: annotated grids, the step-through picture and the kernel picker.

Everything here draws into a ``matplotlib.figure.Figure`` or ``Axes`` it is given (never ``pyplot``), and
creates its artists once. The ``update`` methods change those artists in place (``set_text``, ``set_xy``,
``set_facecolor``, ``set_data``, ``set_clim``, ...), so an interactive explorer (:mod:`cnn_lessons.widgets`)
redraws without building anything new, and the same classes make the static PNG figures of the lessons.

No convolution arithmetic happens here: the numbers come from :mod:`cnn_lessons.ops` (a
:class:`~cnn_lessons.ops.WindowStep`, a full output), this module only lays them out.

- :func:`format_number`: how every number in a figure is written (``−1``, ``0.11``, ``12``).
- :class:`Grid` / :func:`draw_grid`: a block of square annotated cells (a matrix, a row of a signal).
- :func:`step_equation`: ``out[3] = 1·2 + 2·(−1) + (−1)·0 = 0`` for one output position.
- :class:`StepThroughView`: the window sliding over a 1-D signal and a 2-D image, products and sums.
- :class:`KernelPickerView`: a photo, a 3x3 kernel and the filtered photo.
- :class:`GlyphLabels` / :class:`TextBatch` / :class:`CellCollection`: labels and cells drawn in bulk, one call
  per collection (matplotlib draws a Text or a Rectangle each in about a millisecond: too slow for a slider).
- :class:`ConvArithmeticView`: padding, stride and dilation of one convolution (lesson 02's explorer).
- :class:`ReceptiveFieldView`: the receptive field of one output of a stack of layers (lesson 02).
"""

from __future__ import annotations

import functools
from html import escape

import matplotlib
import matplotlib.colors as mcolors
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import Collection, LineCollection, PathCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.ft2font import LoadFlags
from matplotlib.image import AxesImage
from matplotlib.patches import FancyArrowPatch, Polygon, Rectangle
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.textpath import TextPath
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import IdentityTransform, blended_transform_factory

__all__ = [
    "COLORS",
    "format_number",
    "Grid",
    "draw_grid",
    "step_equation",
    "StepThroughView",
    "KernelPickerView",
    "BULK_DRAWING",
    "CellCollection",
    "StillImage",
    "glyph_path",
    "GlyphLabels",
    "TextBatch",
    "ARITHMETIC_COLORS",
    "ConvArithmeticView",
    "RF_COLORS",
    "ReceptiveFieldView",
]

MINUS = "\u2212"
TIMES = "\u00b7"

COLORS = {
    "edge": "#9a9a9a",  # cell borders
    "input": "#ffffff",  # signal / image cells
    "pad": "#e8e8e8",  # zero padding
    "pad_text": "#8a8a8a",
    "kernel": "#d4e4f4",  # kernel cells (light blue)
    "product": "#fbeec1",  # products (light yellow)
    "done": "#dcefd6",  # outputs already computed (light green)
    "todo": "#f6f6f6",  # outputs not reached yet
    "current": "#fdd3a8",  # the output being computed
    "highlight": "#d95f0e",  # window and current-output outlines, the sum arrow
    "text": "#222222",
}
DIVERGING = "RdBu_r"  # negative blue, zero white, positive red


def format_number(value, digits: int = 2) -> str:
    """A number as the figures write it: rounded to ``digits`` decimals, no trailing zeros, a real minus sign.

    >>> format_number(-1.0), format_number(1 / 9), format_number(2.50), format_number(-0.001)
    ('−1', '0.11', '2.5', '0')
    """
    value = round(float(value), digits)
    if value == 0:
        return "0"
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits > 0 else f"{value:.0f}"
    return text.replace("-", MINUS)


def _term(value) -> str:
    text = format_number(value)
    return f"({text})" if text.startswith(MINUS) else text


def _rows(values, shape: tuple[int, int]) -> list[list[float]]:
    """``values`` (tensor, array, nested list; 1-D for a one-row grid) as nested lists of ``shape``."""
    tensor = torch.as_tensor(values).detach().cpu()
    if tensor.numel() != shape[0] * shape[1]:
        raise ValueError(
            f"a {shape[0]}x{shape[1]} grid needs {shape[0] * shape[1]} values, got shape {tuple(tensor.shape)}"
        )
    return tensor.reshape(shape).tolist()


def _cell_values(value, shape: tuple[int, int]) -> list[list]:
    """Per-cell values: a list gives one value per cell (nested lists, one per row; a flat list for a one-row
    grid); anything else (a string, an RGB(A) tuple, a bool) is used for every cell."""
    rows, cols = shape
    if not isinstance(value, list):
        return [[value] * cols for _ in range(rows)]
    if rows == 1 and len(value) == cols and not (value and isinstance(value[0], list)):
        return [value]
    if len(value) != rows or any(not isinstance(row, list) or len(row) != cols for row in value):
        raise ValueError(f"expected {rows} rows of {cols} values (nested lists), got {value!r}")
    return value


class Grid:
    """A ``rows`` x ``cols`` block of square annotated cells (a Rectangle and a Text each), drawn once.

    Cell (r, c) covers [x + c, x + c + 1] x [y + r, y + r + 1] in the data units of ``ax``. Draw it on axes
    whose y axis points down (see :func:`draw_grid`), so that row 0 is on top, as in a matrix. The ``set_*``
    methods and :meth:`move_to` change the existing artists; nothing is ever added after construction.

    ``patches`` and ``texts`` hold each cell's Rectangle and Text; the axes draw them in bulk, all cells as one
    collection and all texts as one :class:`TextBatch`, read from those artists at every draw (a Rectangle or
    Text per cell would take a millisecond or so each to draw: far too slow for a slider).
    """

    def __init__(
        self,
        ax: Axes,
        shape,
        *,
        x: float = 0.0,
        y: float = 0.0,
        facecolor=COLORS["input"],
        edgecolor=COLORS["edge"],
        fontsize: float = 10,
        linewidth: float = 0.8,
    ):
        rows, cols = (1, shape) if isinstance(shape, int) else tuple(shape)
        if rows < 1 or cols < 1:
            raise ValueError(f"a grid needs at least one row and one column, got shape {(rows, cols)}")
        self.ax, self.shape, self.x, self.y = ax, (rows, cols), float(x), float(y)
        self.fontsize = fontsize
        self.patches: list[list[Rectangle]] = []
        self.texts = []
        self._labels = _GridLabels.of(ax)  # one per axes, for every grid on it
        for r in range(rows):
            patch_row, text_row = [], []
            for c in range(cols):
                patch = Rectangle(
                    (x + c, y + r), 1, 1, facecolor=facecolor, edgecolor=edgecolor, linewidth=linewidth, zorder=1
                )
                text = self._labels.text(
                    x + c + 0.5,
                    y + r + 0.5,
                    "",
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                    color=COLORS["text"],
                )
                patch_row.append(patch)
                text_row.append(text)
            self.patches.append(patch_row)
            self.texts.append(text_row)
        _GridCells.of(ax).grids.append(self.patches)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(left, right, top, bottom) in data units."""
        return self.x, self.x + self.shape[1], self.y, self.y + self.shape[0]

    def set_values(self, values, show=None, digits: int = 2) -> None:
        """Write ``values`` (one per cell) with :func:`format_number`; cells where ``show`` is False are blank."""
        rows = _rows(values, self.shape)
        shown = _cell_values(True if show is None else show, self.shape)
        self.set_texts(
            [
                [format_number(v, digits) if s else "" for v, s in zip(row, srow, strict=True)]
                for row, srow in zip(rows, shown, strict=True)
            ]
        )

    def set_texts(self, strings) -> None:
        """Write one string per cell; strings longer than 3 characters get a smaller font to fit the cell."""
        for text_row, string_row in zip(self.texts, _cell_values(strings, self.shape), strict=True):
            for text, string in zip(text_row, string_row, strict=True):
                text.set_text(string)
                text.set_fontsize(self.fontsize * min(1.0, 3.4 / max(len(string), 1)) ** 0.5)

    def get_texts(self) -> list[list[str]]:
        """The strings the cells show now, row by row."""
        return [[text.get_text() for text in row] for row in self.texts]

    def set_facecolors(self, colors) -> None:
        """One colour for every cell, or one per cell (nested rows)."""
        for patch_row, color_row in zip(self.patches, _cell_values(colors, self.shape), strict=True):
            for patch, color in zip(patch_row, color_row, strict=True):
                patch.set_facecolor(color)

    def set_textcolors(self, colors) -> None:
        for text_row, color_row in zip(self.texts, _cell_values(colors, self.shape), strict=True):
            for text, color in zip(text_row, color_row, strict=True):
                text.set_color(color)

    def color_by_value(self, values, cmap=DIVERGING, vmax: float | None = None, strength: float = 0.55) -> None:
        """Tint each cell by its value on a diverging colormap centred on 0 (pale, so the text stays legible).

        ``vmax``: the magnitude that gets the full tint (default: the largest magnitude); ``strength`` in
        [0, 1] blends the colormap's colour with white.
        """
        rows = _rows(values, self.shape)
        vmax = vmax if vmax is not None else max(abs(v) for row in rows for v in row)
        colormap = _colormap(cmap)

        def tint(v):
            rgb = colormap(0.5 + 0.5 * v / vmax if vmax > 0 else 0.5)[:3]
            return tuple(1 + strength * (channel - 1) for channel in rgb)

        self.set_facecolors([[tint(v) for v in row] for row in rows])

    def move_to(self, x: float, y: float | None = None) -> None:
        """Move the whole block so that its top-left corner is at (x, y)."""
        y = self.y if y is None else y
        self.x, self.y = float(x), float(y)
        for r, (patch_row, text_row) in enumerate(zip(self.patches, self.texts, strict=True)):
            for c, (patch, text) in enumerate(zip(patch_row, text_row, strict=True)):
                patch.set_xy((x + c, y + r))
                text.set_position((x + c + 0.5, y + r + 0.5))


def _colormap(cmap):
    import matplotlib

    return matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap


def _outline(ax: Axes, *, fill_alpha: float = 0.0, linewidth: float = 2.6) -> Rectangle:
    color = COLORS["highlight"]
    patch = Rectangle(
        (0, 0), 1, 1, facecolor=mcolors.to_rgba(color, fill_alpha), edgecolor=color, linewidth=linewidth, zorder=3
    )
    ax.add_patch(patch)
    return patch


def _cell_axes(ax: Axes, left: float, right: float, top: float, bottom: float) -> None:
    """Data limits in cell units, y pointing down, no frame or ticks."""
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_axis_off()


def draw_grid(
    ax: Axes,
    values,
    *,
    facecolor=COLORS["input"],
    cmap=None,
    vmax: float | None = None,
    digits: int = 2,
    fontsize: float = 11,
    title: str | None = None,
    margin: float = 0.08,
) -> Grid:
    """Draw ``values`` (a matrix, or a 1-D row) as an annotated grid filling ``ax``; returns the :class:`Grid`.

    For static figures (a kernel, a small image, an output); ``cmap`` tints the cells by value on a
    diverging colormap centred on 0. The returned grid can be updated in place like any other.
    """
    tensor = torch.as_tensor(values)
    shape = (1, tensor.numel()) if tensor.dim() <= 1 else tuple(tensor.shape)
    if len(shape) != 2:
        raise ValueError(f"draw_grid takes a 1-D row or a 2-D matrix, got shape {tuple(tensor.shape)}")
    grid = Grid(ax, shape, facecolor=facecolor, fontsize=fontsize)
    grid.set_values(tensor, digits=digits)
    if cmap is not None:
        grid.color_by_value(tensor, cmap=cmap, vmax=vmax)
    _cell_axes(ax, -margin, shape[1] + margin, -margin, shape[0] + margin)
    ax.set_aspect("equal")
    if title is not None:
        ax.set_title(title, fontsize=fontsize)
    return grid


def step_equation(step, *, max_terms: int | None = None, html: bool = False) -> str:
    """The sum behind one output, written out: ``out[3] = 1·2 + 2·(−1) + (−1)·0 = 0``.

    ``step`` is a :class:`cnn_lessons.ops.WindowStep` (window values times kernel as applied). With more than
    ``max_terms`` products the middle is elided; ``html`` escapes the text and puts the result in bold.
    """
    index = ", ".join(str(i) for i in step.position)
    window = step.window.reshape(-1).tolist()
    kernel = step.kernel.reshape(-1).tolist()
    terms = [f"{_term(a)}{TIMES}{_term(b)}" for a, b in zip(window, kernel, strict=True)]
    if max_terms is not None and len(terms) > max_terms:
        keep = max(max_terms - 1, 1)
        terms = terms[: keep - keep // 2] + ["\u2026"] + (terms[-(keep // 2) :] if keep // 2 else [])
    left, total = f"out[{index}] = " + " + ".join(terms) + " = ", format_number(step.total)
    if html:
        return f"{escape(left)}<b>{escape(total)}</b>"
    return left + total


# --- the step-through explorer's picture --------------------------------------------------------------------

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
            _cell_axes(ax, *xlim, *ylim)
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
        self.window1d = _outline(ax1, fill_alpha=0.16)
        self.window1d.set_height(1)
        self.current1d = _outline(ax1)
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
        self.window2d = _outline(ax2, fill_alpha=0.16)
        self.current2d = _outline(ax2)
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


# --- the kernel picker's picture ----------------------------------------------------------------------------


class KernelPickerView:
    """A grayscale photo, a small kernel as an annotated grid, and the filtered photo with a colour bar.

    The photo is drawn once. :meth:`update` writes the kernel into the grid (tinted by sign) and the result
    into the existing image (``set_data``). Kernels whose weights sum to 0 (edge detectors) give signed
    output: it is shown on a diverging colormap centred on 0 with limits +-max|result|. Kernels whose weights
    sum to 1 keep the average brightness: the result is shown in grey on the photo's own scale (0..1), so the
    two images compare directly (values beyond 0..1, e.g. a sharpened edge's overshoot, saturate).
    """

    def __init__(self, fig: Figure, photo, kernel_shape=(3, 3), *, fontsize: float = 10):
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
        self.photo_image = _still_image(self.ax_photo, photo.numpy(), "gray", self.photo_clim)
        self.photo_title = _axes_title(self.ax_photo, "original (grayscale)", fontsize, top)
        self.result_image = _still_image(self.ax_result, torch.zeros_like(photo).numpy(), "gray", (0.0, 1.0))
        self.result_title = _axes_title(self.ax_result, "", fontsize, top)
        self.colorbar = ColorBar(self.ax_colorbar, self.result_image, fontsize=fontsize - 2)
        for ax in (self.ax_photo, self.ax_result, self.ax_colorbar):  # a plain frame: axes without ticks draw faster
            _framed(ax)

        pad = (kernel_w / cell - kw) / 2
        self.kernel_grid = Grid(self.ax_kernel, (kh, kw), fontsize=fontsize + 1)
        _cell_axes(self.ax_kernel, -pad, kw + pad, -0.04, kh + 0.04)  # room for the border lines
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


# --- text and cells drawn in bulk ---------------------------------------------------------------------------
#
# Matplotlib draws every Text artist glyph by glyph through FreeType, about a millisecond per short label on a
# small machine, and every Rectangle as its own path. A figure with a hundred numbered cells then takes a few
# hundred milliseconds to redraw, far from instant. The classes below draw the same things in one call each:
# glyph outlines (``TextPath``, cached per string) in one ``PathCollection``, cells in one ``PolyCollection``.


@functools.lru_cache(maxsize=64)
def _font_properties(weight, family: str) -> FontProperties:
    return FontProperties(family=family, weight=weight)


@functools.lru_cache(maxsize=1)
def _font_metrics() -> tuple[float, float]:
    """(digit height, descent) of the default font, for a font size of 1."""
    digit = TextPath((0, 0), "0", size=1, prop=_font_properties("normal", "sans-serif")).get_extents()
    descent = TextPath((0, 0), "g", size=1, prop=_font_properties("normal", "sans-serif")).get_extents()
    return digit.y1, -descent.y0


_EMPTY_PATH = Path(np.zeros((1, 2)), [Path.MOVETO])
_LINE_SPACING = 1.3  # in font sizes


@functools.lru_cache(maxsize=1024)
def _char_outline(char: str, weight, family: str) -> tuple[np.ndarray | None, np.ndarray | None, float]:
    """(vertices, codes, advance) of one character at font size 1; no outline for white space."""
    prop = _font_properties(weight, family)
    font = get_font(findfont(prop))
    font.set_size(100, 72)
    advance = font.load_char(ord(char), flags=LoadFlags.NO_HINTING).linearHoriAdvance / 65536 / 100
    if char.isspace():
        return None, None, advance
    path = TextPath((0, 0), char, size=1, prop=prop)
    return path.vertices.copy(), path.codes.copy(), advance


def _line_outline(line: str, weight, family: str) -> tuple[np.ndarray, np.ndarray]:
    """A line's outline, character outlines placed by their advance widths (as TextPath does, less kerning)."""
    vertices, codes, x = [], [], 0.0
    for char in line:
        v, c, advance = _char_outline(char, weight, family)
        if v is not None and len(v):
            vertices.append(v + (x, 0.0))
            codes.append(c)
        x += advance
    if not vertices:
        return np.zeros((0, 2)), np.zeros(0, dtype=Path.code_type)
    return np.concatenate(vertices), np.concatenate(codes)


@functools.lru_cache(maxsize=8192)
def glyph_path(
    text: str,
    ha: str = "center",
    va: str = "center",
    weight="normal",
    family: str = "sans-serif",
    rotation: float = 0.0,
) -> Path:
    """The outline of ``text`` at font size 1 (units: points), aligned at (0, 0) like a Text with ``ha``/``va``.

    ``va="center"`` centres digits' height (the same for every string, so a row of numbers shares a baseline);
    lines split at newlines. ``rotation``: degrees anticlockwise about the aligned point (a Text's
    ``rotation_mode="anchor"``). Built from cached character outlines, so a new string costs little.
    """
    if not text.strip():
        return _EMPTY_PATH
    height, descent = _font_metrics()
    lines = text.split("\n")
    block = height + (len(lines) - 1) * _LINE_SPACING
    shift_y = {"center": block / 2 - height, "top": -height, "bottom": (len(lines) - 1) * _LINE_SPACING + descent}
    base = shift_y.get(va, (len(lines) - 1) * _LINE_SPACING if va == "baseline" else 0.0)
    vertices, codes = [], []
    for n, line in enumerate(lines):
        v, c = _line_outline(line, weight, family)
        if not len(v):
            continue
        x0, x1 = v[:, 0].min(), v[:, 0].max()
        dx = {"left": -min(x0, 0.0), "right": -x1}.get(ha, -(x0 + x1) / 2)
        vertices.append(v + (dx, base - n * _LINE_SPACING))
        codes.append(c)
    vertices = np.concatenate(vertices)
    if rotation:
        angle = np.deg2rad(rotation)
        cos, sin = np.cos(angle), np.sin(angle)
        vertices = vertices @ np.array([[cos, sin], [-sin, cos]])
    return Path(vertices, np.concatenate(codes))


def _each(value, count: int) -> list:
    """One value per label: a list (or array) of ``count`` values as is, anything else (a tuple is a colour) for all."""
    if isinstance(value, (list, np.ndarray)) and len(value) == count:
        return list(value)
    return [value] * count


BULK_DRAWING = True
"""Draw :class:`GlyphLabels` (and :class:`TextBatch`) and :class:`CellCollection` in bulk, one call each. Set to
False, they draw every label as its own ``Text`` and every cell as its own ``Polygon``, the way matplotlib code
usually draws such pictures: the same picture, drawn naively (``benchmarks/slider_latency.py``'s baseline)."""


class CellCollection(PolyCollection):
    """A ``PolyCollection`` of grid cells that draws naively (a Polygon per cell) when ``BULK_DRAWING`` is off.

    :meth:`set_cells` takes ready-made closed paths (see :func:`_cell_paths`, cached per grid shape), which is
    much cheaper than ``set_verts`` building a Path per cell on every update.
    """

    def set_cells(self, paths) -> None:
        Collection.set_paths(self, list(paths))

    def draw(self, renderer) -> None:
        if BULK_DRAWING or not self.get_visible():
            super().draw(renderer)
            return
        paths = self.get_paths()
        faces, edges, widths = (_each_row(v, len(paths)) for v in (
            self.get_facecolor(), self.get_edgecolor(), self.get_linewidth()))  # fmt: skip
        for path, face, edge, width in zip(paths, faces, edges, widths, strict=True):
            polygon = Polygon(path.vertices, closed=True, facecolor=face, edgecolor=edge, linewidth=width)
            polygon.set_figure(self.get_figure(root=False))
            polygon.set_transform(self.get_transform())
            polygon.set_clip_box(self.get_clip_box())
            polygon.set_clip_path(self.get_clip_path())
            polygon.set_clip_on(self.get_clip_on())
            polygon.draw(renderer)


class _GridCells(CellCollection):
    """The cells of every :class:`Grid` on one axes, drawn in one call from their Rectangles' current state."""

    def __init__(self, ax: Axes):
        super().__init__([], zorder=1)
        ax.add_collection(self, autolim=False)
        self.grids: list[list[list[Rectangle]]] = []

    @classmethod
    def of(cls, ax: Axes) -> _GridCells:
        return next((c for c in ax.collections if isinstance(c, cls)), None) or cls(ax)

    def draw(self, renderer) -> None:
        shown = [patch for grid in self.grids for row in grid for patch in row if patch.get_visible()]
        corners = np.empty((len(shown), 4, 2))
        for i, patch in enumerate(shown):
            (x, y), w, h = patch.get_xy(), patch.get_width(), patch.get_height()
            corners[i] = ((x, y), (x + w, y), (x + w, y + h), (x, y + h))
        self.set_verts(corners)
        self.set_facecolor(np.array([patch.get_facecolor() for patch in shown]).reshape(-1, 4))
        self.set_edgecolor(np.array([patch.get_edgecolor() for patch in shown]).reshape(-1, 4))
        self.set_linewidth([patch.get_linewidth() for patch in shown] or 0)
        super().draw(renderer)


class _GridLabels:
    """Finds (or makes) the one :class:`TextBatch` that draws the texts of every :class:`Grid` on an axes."""

    @staticmethod
    def of(ax: Axes) -> TextBatch:
        batch = next((c for c in ax.collections if getattr(c, "_grid_labels", False)), None)
        if batch is None:
            batch = TextBatch(ax, zorder=4)
            batch._grid_labels = True
        return batch


def _each_row(values, count: int) -> list:
    values = list(values) if len(values) else ["none"]
    return values * count if len(values) == 1 else values


class GlyphLabels(PathCollection):
    """Many short strings drawn as ONE artist: their glyph outlines (:func:`glyph_path`) in a ``PathCollection``.

    Positions are in ``transform`` (default: the data coordinates of ``ax``), font sizes in points. About a
    hundred times faster to draw than as many Text artists; the text reads the same (outlines are not hinted,
    so it is a touch softer). :meth:`get_texts` gives back the strings shown, in the order they were set.
    """

    def __init__(self, ax: Axes, *, transform=None, zorder: float = 4, clip_on: bool = False):
        super().__init__(
            [],
            sizes=[1.0],
            offsets=np.zeros((0, 2)),
            offset_transform=ax.transData if transform is None else transform,
            transform=IdentityTransform(),
            linewidths=0,
            edgecolors="none",
            zorder=zorder,
        )
        ax.add_collection(self, autolim=False)
        self.set_clip_on(clip_on)
        self._strings: list[str] = []
        self._positions = np.zeros((0, 2))
        self._naive: list[tuple] = []  # (string, x, y, size, color, ha, va, weight, family, rotation) per label

    def set_labels(
        self,
        strings,
        positions,
        *,
        sizes=10.0,
        colors=COLORS["text"],
        ha="center",
        va="center",
        weight="normal",
        family="sans-serif",
        rotation=0.0,
    ) -> None:
        """Show ``strings`` at ``positions`` (an (n, 2) array); the keywords take one value or one per string.

        ``rotation``: degrees anticlockwise about each string's aligned point (``rotation_mode="anchor"``)."""
        strings = [str(s) for s in strings]
        count = len(strings)
        positions = np.asarray(positions, dtype=float).reshape(count, 2)
        keep = [i for i, s in enumerate(strings) if s.strip()]
        sizes, colors = _each(sizes, count), _each(colors, count)
        has, vas, weights, families, rotations = (_each(v, count) for v in (ha, va, weight, family, rotation))
        self.set_paths(
            [glyph_path(strings[i], has[i], vas[i], weights[i], families[i], float(rotations[i])) for i in keep]
        )
        self.set_offsets(positions[keep] if keep else np.zeros((0, 2)))
        self.set_sizes(np.square([float(sizes[i]) for i in keep]) if keep else [1.0])
        self.set_facecolor([colors[i] for i in keep] if keep else "none")
        self._strings, self._positions = strings, positions
        self._naive = [
            (strings[i], *positions[i], sizes[i], colors[i], has[i], vas[i], weights[i], families[i], rotations[i])
            for i in keep
        ]

    def draw(self, renderer) -> None:
        if BULK_DRAWING or not self.get_visible():
            super().draw(renderer)
            return
        for string, x, y, size, color, ha, va, weight, family, rotation in self._naive:  # one Text each, as usual
            text = Text(
                x,
                y,
                string,
                fontsize=size,
                color=color,
                ha=ha,
                va=va,
                fontweight=weight,
                fontfamily=family,
                rotation=rotation,
                rotation_mode="anchor",
            )
            text.set_figure(self.get_figure(root=False))
            text.set_transform(self.get_offset_transform())
            text.set_clip_on(False)
            text.draw(renderer)

    def get_texts(self) -> list[str]:
        """The strings set last, empty ones included."""
        return list(self._strings)

    def get_positions(self) -> np.ndarray:
        return self._positions.copy()


class TextBatch(GlyphLabels):
    """Text artists that draw together as one :class:`GlyphLabels`.

    :meth:`text` returns a ``matplotlib.text.Text`` that is not added to the axes: it only holds the string,
    position (in the batch's transform), font size, colour, alignment, weight, family and visibility, which
    the batch reads when the figure draws. Use it like any Text (``set_text``, ``get_text``, ``set_color``...).
    """

    def __init__(self, ax: Axes, *, transform=None, zorder: float = 4, clip_on: bool = False):
        super().__init__(ax, transform=transform, zorder=zorder, clip_on=clip_on)
        self.texts: list[Text] = []

    def text(
        self,
        x: float,
        y: float,
        s: str = "",
        *,
        fontsize: float = 10,
        color=COLORS["text"],
        ha: str = "left",
        va: str = "baseline",
        weight="normal",
        family: str = "sans-serif",
        rotation: float = 0.0,
        zorder=None,
        clip_on=None,
    ) -> Text:
        """A Text drawn by this batch (``ax.text``'s arguments; ``zorder`` and ``clip_on`` are the batch's own;
        ``rotation`` turns the text about its aligned point, as ``rotation_mode="anchor"`` does)."""
        text = Text(
            x,
            y,
            s,
            fontsize=fontsize,
            color=color,
            ha=ha,
            va=va,
            fontweight=weight,
            fontfamily=family,
            rotation=rotation,
            rotation_mode="anchor",
        )
        self.texts.append(text)
        return text

    def draw(self, renderer) -> None:
        shown = [t for t in self.texts if t.get_visible() and t.get_text()]
        self.set_labels(
            [t.get_text() for t in shown],
            [t.get_position() for t in shown] or np.zeros((0, 2)),
            sizes=[t.get_fontsize() for t in shown],
            colors=[t.get_color() for t in shown],
            ha=[t.get_horizontalalignment() for t in shown],
            va=[t.get_verticalalignment() for t in shown],
            weight=[t.get_fontweight() for t in shown],
            family=[t.get_fontfamily()[0] for t in shown],
            rotation=[t.get_rotation() for t in shown],
        )
        super().draw(renderer)


@functools.lru_cache(maxsize=256)
def _cell_squares(rows: int, cols: int, inset: float = 0.0) -> np.ndarray:
    """(rows*cols, 4, 2) corners of unit cells, row-major, cell (r, c) at [c, c+1] x [r, r+1]."""
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    corners = np.array([(0, 0), (1, 0), (1, 1), (0, 1)], dtype=float) * (1 - 2 * inset) + inset
    squares = np.stack([c.reshape(-1), r.reshape(-1)], axis=1)[:, None, :] + corners[None, :, :]
    squares.setflags(write=False)
    return squares


_SQUARE_CODES = np.array([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY], dtype=Path.code_type)


@functools.lru_cache(maxsize=256)
def _cell_paths(rows: int, cols: int, inset: float = 0.0) -> tuple[Path, ...]:
    """Closed square paths of :func:`_cell_squares`, row-major, made once per shape."""
    squares = _cell_squares(rows, cols, inset)
    closed = np.concatenate([squares, squares[:, :1]], axis=1)
    return tuple(Path(square, _SQUARE_CODES, readonly=True) for square in closed)


def _cell_collection(ax: Axes, *, edgecolor=COLORS["edge"], linewidth: float = 0.8, zorder: float = 1):
    cells = CellCollection([], facecolors=COLORS["input"], edgecolors=edgecolor, linewidths=linewidth, zorder=zorder)
    ax.add_collection(cells, autolim=False)
    return cells


def _outline_collection(ax: Axes, *, linewidth: float = 2.2, zorder: float = 3, color=COLORS["highlight"]):
    outlines = CellCollection([], facecolors="none", edgecolors=color, linewidths=linewidth, zorder=zorder)
    ax.add_collection(outlines, autolim=False)
    return outlines


@functools.lru_cache(maxsize=512)
def _wrapped(text: str, width: int) -> tuple[str, ...]:
    import textwrap

    return tuple(textwrap.wrap(text, width)) if text else ()


def _wrap(text: str, width: int) -> list[str]:
    return list(_wrapped(text, width))


@functools.lru_cache(maxsize=256)
def _cell_centres(rows: int, cols: int) -> np.ndarray:
    centres = _cell_squares(rows, cols).mean(axis=1)
    centres.setflags(write=False)
    return centres


def _axes_title(ax: Axes, text: str, fontsize: float, room: float) -> Text:
    """A title above ``ax`` drawn by a :class:`TextBatch` (``room``: inches above the axes)."""
    height = ax.get_position().height * ax.get_figure(root=True).get_size_inches()[1]
    words = TextBatch(ax, transform=ax.transAxes)
    return words.text(0.5, 1 + min(0.09, room / 2) / height, text, ha="center", va="baseline", fontsize=fontsize)


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


def _still_image(ax: Axes, data, cmap: str, clim, *, extent=None) -> StillImage:
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


def _framed(ax: Axes) -> None:
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
        self.gradient = _still_image(ax, np.linspace(0, 1, 256)[:, None], "viridis", (0, 1), extent=(0, 1, 0, 1))
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


# --- the convolution-arithmetic explorer's picture ----------------------------------------------------------

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
_MAX_CELL = 0.42  # inches: small grids do not blow up


def _fit_cells(ax: Axes, box_w: float, box_h: float, cols: float, rows: float, *, left_pad=0.0, middle=False):
    """Set the limits of ``ax`` (a ``box_w`` x ``box_h`` inch panel, y down) so that a ``cols`` x ``rows`` block of
    unit cells fits, centred across (right of ``left_pad`` inches), at the top (or in the ``middle``); returns the
    cell size in inches."""
    margin = 0.1  # cells: room for the outermost border lines
    cell = min((box_w - left_pad) / (cols + margin), box_h / (rows + margin), _MAX_CELL)
    width, height = box_w / cell, box_h / cell
    left = cols / 2 - (width + left_pad / cell) / 2
    top = rows / 2 - height / 2 if middle else -margin / 2
    limits = ((left, left + width), (top + height, top))
    if getattr(ax, "_cell_limits", None) != limits:  # setting limits costs, even to the same values
        ax.set_xlim(*limits[0])
        ax.set_ylim(*limits[1])
        ax._cell_limits = limits
    return cell


def _number_size(cell_inches: float, longest: int = 2) -> float:
    """Font size (points) for numbers in cells of ``cell_inches``; 0 where they would be too small to read."""
    size = min(11.0, cell_inches * 72 * (0.44 if longest <= 2 else 0.34))
    return size if size >= 6.5 else 0.0


class ConvArithmeticView:
    """One convolution's arithmetic, drawn: the padded input, the kernel taps, the output, the formula, the layer.

    2-D: the padded input grid (padding cells grey, holding the values the padding mode puts there; the unpadded
    input outlined), the kernel's taps at the chosen output cell outlined one by one (dilation shows as gaps),
    cells that no tap of any output reaches tinted red; the output grid with the chosen cell highlighted. 1-D: the
    padded input row and, under it, the output row, each output cell centred under its window, lines from the
    taps to the chosen cell. Below both: the output-size formula with the numbers filled in, notes (padding,
    dilation, unreached cells), the PyTorch layer and, when torch refuses the configuration, why in words, the
    output greyed out.

    :meth:`update` takes a :class:`cnn_lessons.explain.ConvPicture` and changes the existing artists only: a few
    collections, each drawing all its cells or labels in one call, so a redraw takes milliseconds.
    """

    def __init__(self, fig: Figure, *, fontsize: float = 10):
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
        self.cells2d = _cell_collection(self.ax_input2d)
        self.numbers2d = GlyphLabels(self.ax_input2d)
        self.taps2d = _outline_collection(self.ax_input2d)
        self.border2d = self._border(self.ax_input2d)
        self.out_cells2d = _cell_collection(self.ax_output2d)
        self.current2d = _outline_collection(self.ax_output2d)
        self.no_output2d = Rectangle((0, 0), 5, 5, facecolor=ARITHMETIC_COLORS["none"], edgecolor="none")
        self.ax_output2d.add_patch(self.no_output2d)
        self.words2d = TextBatch(self.ax_output2d)
        self.no_output_text2d = self.words2d.text(2.5, 2.5, "no output", ha="center", va="center", color=muted)
        # 1-D: both rows in one axes, the output row below the input row
        self.cells1d = _cell_collection(self.ax_1d)
        self.numbers1d = GlyphLabels(self.ax_1d)
        self.taps1d = _outline_collection(self.ax_1d)
        self.border1d = self._border(self.ax_1d)
        self.links1d = LineCollection([], colors=COLORS["highlight"], linewidths=1.1, alpha=0.8, zorder=2)
        self.ax_1d.add_collection(self.links1d, autolim=False)
        self.out_cells1d = _cell_collection(self.ax_1d)
        self.current1d = _outline_collection(self.ax_1d)
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
            lines, color = _wrap(picture.problem, 98), ARITHMETIC_COLORS["problem"]
        else:
            lines, color = [line for note in picture.notes for line in _wrap(note, 104)], "#444444"
        if len(lines) > len(self.lines):
            lines = lines[: len(self.lines)]
            lines[-1] += " \u2026"
        for text, line in zip(self.lines, lines + [""] * (len(self.lines) - len(lines)), strict=True):
            text.set_text(line)
            text.set_color(color)
        self.legend_labels["pad"].set_text(f"padding ({picture.padding_mode})")

    def update(self, picture) -> None:
        """Draw :class:`cnn_lessons.explain.ConvPicture` ``picture`` (1-D or 2-D) with the existing artists."""
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
        cell = _fit_cells(self.ax_input2d, *self.boxes["input2d"][2:], n, n)
        if self._geometry != ("2d", n):
            self.cells2d.set_cells(_cell_paths(n, n))
            self._geometry = ("2d", n)
        self.cells2d.set_facecolor(colors)
        self._numbers(self.numbers2d, picture, pad, _cell_centres(n, n), _number_size(cell))
        first = picture.pads[0] if picture.pads else 0
        self.border2d.set_bounds(first, first, picture.size, picture.size)
        if o is None:
            _fit_cells(self.ax_output2d, *self.boxes["output2d"][2:], 5, 5)
            for collection in (self.taps2d, self.out_cells2d, self.current2d):
                collection.set_cells([])
            self.no_output2d.set_visible(True)
            self.no_output_text2d.set_visible(True)
            return
        rows, cols = (t.numpy() for t in picture.taps)
        inset = _cell_paths(n, n, 0.07)
        self.taps2d.set_cells(inset[r * n + c] for r in rows for c in cols)
        _fit_cells(self.ax_output2d, *self.boxes["output2d"][2:], o, o)
        squares = _cell_paths(o, o)
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
        cell = _fit_cells(self.ax_1d, *self.boxes["1d"][2:], n, out_y + 1.2, left_pad=0.75, middle=True)
        if self._geometry != ("1d", n):
            self.cells1d.set_cells(_cell_paths(1, n))
            self._geometry = ("1d", n)
        self.cells1d.set_facecolor(colors)
        self._numbers(self.numbers1d, picture, pad, _cell_centres(1, n), _number_size(cell))
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
        inset = _cell_paths(1, n, 0.07)
        self.taps1d.set_cells(inset[t] for t in taps)
        lefts = np.asarray(picture.window_starts, dtype=float) + (picture.span - 1) / 2  # centred under the window
        squares = _cell_squares(1, o) + np.stack([lefts - np.arange(o), np.full(o, out_y)], axis=1)[:, None, :]
        self.out_cells1d.set_verts(squares)
        i = picture.flat_position
        faces = np.tile(mcolors.to_rgba(ARITHMETIC_COLORS["output"]), (o, 1))
        faces[i] = mcolors.to_rgba(ARITHMETIC_COLORS["current"])
        self.out_cells1d.set_facecolor(faces)
        self.current1d.set_verts(squares[i : i + 1])
        self.links1d.set_segments([[(t + 0.5, 1.0), (lefts[i] + 0.5, out_y)] for t in taps])
        self.no_output1d.set_visible(False)
        self.no_output_text1d.set_visible(False)


# --- the receptive-field explorer's picture -----------------------------------------------------------------

RF_COLORS = {
    "cell": "#ffffff",
    "chosen": COLORS["current"],
    "feeds": "#f7be86",  # a cell the chosen output depends on
    "hole": "#fdf0df",  # inside the receptive field's extent, but feeding nothing (dilation)
    "none": "#d6d6d6",  # a layer that does not fit
}
_RF_FIG = (7.4, 4.2)
_RF_ROW = 1.8  # data units from one row to the next (a row is 1 high)


class ReceptiveFieldView:
    """A stack of 1-D layers over an input, and which cells one output of the last layer depends on.

    Rows from the bottom: the input, then each layer's output, every cell centred over its own receptive field.
    The chosen cell of the last layer, the cells below that feed it (layer by layer, with a line for every
    tap) and, on the input, the extent of its receptive field: cells inside the extent that feed nothing (holes
    that dilation leaves) are drawn paler. Each row is labelled with its layer and its receptive field r; below
    the stack, the formula r = 1 + Σ d_l (k_l − 1) Π s_m with the numbers filled in and the matching
    ``receptive_field`` call. A layer that does not fit on the one below is a grey bar, explained in words.

    :meth:`update` takes a :class:`cnn_lessons.explain.RFPicture`; only existing artists change.
    """

    def __init__(self, fig: Figure, *, max_layers: int = 4, fontsize: float = 10):
        self.fig, self.fontsize, self.max_layers = fig, fontsize, max_layers
        self.figsize = _RF_FIG
        if tuple(fig.get_size_inches()) != self.figsize:
            fig.set_size_inches(*self.figsize)
        W, H = self.figsize
        self.box = (2.0, 0.42, 4.65, 2.3)  # left, top, width, height in inches
        left, top, w, h = self.box
        self.ax = fig.add_axes((left / W, 1 - (top + h) / H, w / W, h / H))
        self.ax.set_axis_off()
        self.ax_text = fig.add_axes((0, 0, 1, 1))
        self.ax_text.set_axis_off()
        self.ax_text.set_xlim(0, W)
        self.ax_text.set_ylim(H, 0)

        self.links = LineCollection([], colors=COLORS["highlight"], linewidths=0.9, alpha=0.55, zorder=0.5)
        self.ax.add_collection(self.links, autolim=False)
        self.cells = _cell_collection(self.ax)
        self.chosen = _outline_collection(self.ax, linewidth=2.0)
        self.bracket = LineCollection([], colors=COLORS["highlight"], linewidths=1.6, zorder=2)
        self.ax.add_collection(self.bracket, autolim=False)
        self.indices = GlyphLabels(self.ax)
        rows = blended_transform_factory(self.ax.transAxes, self.ax.transData)
        self.row_words = TextBatch(self.ax, transform=rows)
        self.row_labels = [
            self.row_words.text(-0.015, 0, "", ha="right", va="center", fontsize=fontsize - 0.5)
            for _ in range(max_layers + 1)
        ]
        self.row_fields = [
            self.row_words.text(1.015, 0, "", ha="left", va="center", fontsize=fontsize - 0.5, color="#444444")
            for _ in range(max_layers + 1)
        ]
        self.none_words = TextBatch(self.ax, zorder=5)
        self.none_labels = [
            self.none_words.text(0, 0, "", ha="center", va="center", fontsize=fontsize - 1, color="#555555")
            for _ in range(max_layers)
        ]
        self.words = TextBatch(self.ax_text)
        text = self.words.text
        self.title = text(0.2, 0.25, "", fontsize=fontsize + 0.5, va="center")
        y = top + h + 0.36
        self.formula = text(0.2, y - 0.08, "", fontsize=fontsize + 1, va="top")  # two lines: symbols, numbers
        self.call = text(0.2, y + 0.5, "", va="center", family="monospace", color=ARITHMETIC_COLORS["code"])
        self.note = text(0.2, y + 0.74, "", fontsize=fontsize - 0.5, va="center", color="#444444")
        self.problem = [
            text(0.2, y + 0.74 + 0.2 * k, "", va="center", color=ARITHMETIC_COLORS["problem"]) for k in range(2)
        ]

    def _x(self, picture, layer: int, index) -> np.ndarray:
        """Left edge of cell ``index`` of ``layer``: centred over its receptive field, in input cells."""
        return np.asarray(index) * picture.jumps[layer] + (picture.fields[layer] - 1) / 2

    def update(self, picture) -> None:
        """Draw :class:`cnn_lessons.explain.RFPicture` ``picture`` with the existing artists."""
        count = len(picture.layers)
        width = picture.sizes[0]
        self.ax.set_xlim(-0.5, width + 0.5)
        self.ax.set_ylim(-1.15, count * _RF_ROW + 1.25)
        cell_inches = self.box[2] / (width + 1)
        ok = picture.problem is None
        drawn = len(picture.sizes)  # rows that exist: the input and the layers that fit
        squares, faces = [], []
        colors = {key: mcolors.to_rgba(value) for key, value in RF_COLORS.items()}
        for layer in range(drawn):
            size = picture.sizes[layer]
            lefts = self._x(picture, layer, np.arange(size))
            square = (
                _cell_squares(1, size)
                + np.stack([lefts - np.arange(size), np.full(size, layer * _RF_ROW)], 1)[:, None, :]
            )
            squares.append(square)
            face = np.tile(colors["cell"], (size, 1))
            if ok:
                feeds = list(picture.influence[layer])
                if layer == 0:
                    face[feeds[0] : feeds[-1] + 1] = colors["hole"]
                face[feeds] = colors["chosen"] if layer == count else colors["feeds"]
            faces.append(face)
        for layer in range(drawn, count + 1):  # layers that do not fit: a grey bar across the input
            squares.append(np.array([[(0, layer * _RF_ROW), (width, layer * _RF_ROW), (width, layer * _RF_ROW + 1),
                                      (0, layer * _RF_ROW + 1)]], dtype=float))  # fmt: skip
            faces.append(np.array([colors["none"]]))
        self.cells.set_verts(np.concatenate(squares) if squares else [])
        self.cells.set_facecolor(np.concatenate(faces))

        for k, label in enumerate(self.none_labels):
            layer = k + 1
            label.set_visible(drawn <= layer <= count)
            label.set_text("does not fit" if layer == drawn else "")
            label.set_position((width / 2, layer * _RF_ROW + 0.5))
        for layer, (label, field) in enumerate(zip(self.row_labels, self.row_fields, strict=True)):
            label.set_visible(layer <= count)
            field.set_visible(layer <= count)
            label.set_y(layer * _RF_ROW + 0.5)
            field.set_y(layer * _RF_ROW + 0.5)
            if layer > count:
                continue
            if layer == 0:
                label.set_text(f"input: {width} cells")
            else:
                k, s, d = picture.layers[layer - 1]
                size = f" \u2192 {picture.sizes[layer]}" if layer < drawn else ""
                label.set_text(f"layer {layer}: k={k} s={s} d={d}{size}")
            field.set_text(f"r = {picture.fields[layer]}")

        size = 7.5 if cell_inches >= 0.19 else 6.5 if cell_inches >= 0.135 else 0.0  # index labels, if they fit
        self.indices.set_labels(
            [str(i) for i in range(width)] if size else [],
            np.stack([np.arange(width) + 0.5, np.full(width, -0.42)], 1) if size else np.zeros((0, 2)),
            sizes=size,
            colors="#777777",
        )
        self.formula.set_text(picture.formula)
        layers = ", ".join(f"({k}, {s}, {d})" for k, s, d in picture.layers)
        self.call.set_text(f"receptive_field([{layers}]) = {picture.field}")
        lines = _wrap(picture.problem or "", 96)[: len(self.problem)]
        for text, line in zip(self.problem, lines + [""] * (len(self.problem) - len(lines)), strict=True):
            text.set_text(line)
        if not ok:
            self.chosen.set_verts([])
            self.links.set_segments([])
            self.bracket.set_segments([])
            self.note.set_text("")
            self.title.set_text(f"receptive field r = {picture.field}, but the stack does not fit on the input")
            return
        top = squares[count]
        self.chosen.set_verts(top[picture.position : picture.position + 1])
        centre = {layer: self._x(picture, layer, np.arange(picture.sizes[layer])) + 0.5 for layer in range(drawn)}
        self.links.set_segments(
            [
                [(centre[layer][i], layer * _RF_ROW), (centre[layer - 1][below], (layer - 1) * _RF_ROW + 1)]
                for layer, i, below in picture.edges
            ]
        )
        first, last = picture.influence[0][0], picture.influence[0][-1]
        y = -0.8
        self.bracket.set_segments(
            [
                [(first, y), (last + 1, y)],
                [(first, y - 0.18), (first, y + 0.18)],
                [(last + 1, y - 0.18), (last + 1, y + 0.18)],
            ]
        )
        name = f"layer {count}" if count else "the input"
        self.title.set_text(
            f"cell {picture.position} of {name} depends on input cells {first} \u2026 {last}: "
            f"a receptive field of r = {picture.field} cells"
        )
        used = len(picture.influence[0])
        self.note.set_text(
            f"with dilation, only {used} of those {picture.field} cells feed it (paler cells: holes in the field)"
            if used < picture.field
            else ""
        )


# --- lesson 04: block diagrams of classic architectures, and parameters per stage -----------------------------

import dataclasses  # noqa: E402  (this section was appended; its imports stay with it)

import matplotlib.font_manager  # noqa: E402
import matplotlib.patches  # noqa: E402
import matplotlib.path  # noqa: E402
import matplotlib.textpath  # noqa: E402
import matplotlib.ticker  # noqa: E402
import matplotlib.transforms  # noqa: E402

__all__ += [
    "DIAGRAM_STYLES",
    "LAYER_KINDS",
    "DiagramNode",
    "DiagramEdge",
    "DiagramSpec",
    "BlockDiagram",
    "diagram_size",
    "draw_block_diagram",
    "basic_block_spec",
    "bottleneck_spec",
    "inception_spec",
    "dense_block_spec",
    "depthwise_separable_spec",
    "inverted_residual_se_spec",
    "convnext_block_spec",
    "BLOCK_DIAGRAMS",
    "format_count",
    "StageParameterView",
]

DIAGRAM_STYLES = {
    # kind: (face colour, edge colour). Layer kinds are boxes, "io" is a bare label (the tensor going in or
    # out), "add" and "mul" are circles with + and x, "concat" is a bar the branches run into.
    "conv": ("#d4e4f4", "#6a8caf"),
    "dwconv": ("#dcefd6", "#6f9f63"),  # depthwise: one filter per channel
    "pool": ("#fbeec1", "#b9a04a"),
    "norm": ("#ececec", "#9a9a9a"),
    "act": ("#f7f7f7", "#9a9a9a"),
    "linear": ("#eadff2", "#8e72a8"),
    "io": ("none", "none"),
    "add": ("#ffffff", "#444444"),
    "mul": ("#ffffff", "#444444"),
    "concat": ("#fde4cf", COLORS["highlight"]),
}
LAYER_KINDS = ("conv", "dwconv", "pool", "norm", "act", "linear")
_DIAGRAM_MERGES = {"add": "+", "mul": "\u00d7"}
_DIAGRAM_ROUTES = ("auto", "side", "skip")
_DIAGRAM_X = "\u00d7"
# layout, in inches at scale 1: box height, row pitch, gap between columns, merge radius, title band, margin
_DG_BOX_H, _DG_ROW, _DG_COL_GAP, _DG_MERGE_R, _DG_TITLE_H, _DG_EDGE = 0.44, 0.7, 0.35, 0.15, 0.42, 0.14
_DG_FONT, _DG_NOTE, _DG_TITLE = 9.0, 7.2, 10.0  # font sizes (points) at scale 1
_DG_LINE = "#444444"


@dataclasses.dataclass(frozen=True)
class DiagramNode:
    """One element of a block diagram.

    ``kind``: a layer (``conv``, ``dwconv``, ``pool``, ``norm``, ``act``, ``linear``: a box with ``text`` and an
    optional smaller ``note`` under it), a merge (``add`` or ``mul``: a circle; ``concat``: a bar showing
    ``text``) or ``io`` (a bare label for the tensor going in or out). ``col``/``row`` place its centre on the
    diagram's grid (columns left to right, rows top to bottom, fractions allowed); ``span`` widens a box or
    a bar over that many columns.
    """

    key: str
    kind: str
    text: str = ""
    note: str = ""
    col: float = 0.0
    row: float = 0.0
    span: float = 1.0


@dataclasses.dataclass(frozen=True)
class DiagramEdge:
    """An arrow from node ``source`` to node ``target``.

    ``route``: ``"auto"`` (downwards; with an elbow when the two sit in different columns, or straight down
    into a bar that spans the source's column), ``"side"`` (down to the target's height, then into its side)
    or ``"skip"`` (branching off below the source to a lane beside the main path, down, and into the target's
    side: a residual connection). ``shortcut`` draws it in the highlight colour; ``label`` is written along a
    skip lane; ``lane`` is that lane's offset from the source's centre in inches (default: left of the box).
    """

    source: str
    target: str
    route: str = "auto"
    shortcut: bool = False
    label: str = ""
    lane: float | None = None


@dataclasses.dataclass(frozen=True)
class DiagramSpec:
    """What :func:`draw_block_diagram` draws: a title, nodes, arrows between them, and dashed frames.

    ``groups``: (label, node keys) pairs, each drawn as a dashed frame around those nodes with the label under
    it (e.g. the squeeze-and-excitation branch). ``box_width``: the width of a one-column box in inches at
    scale 1; boxes widen to fit their text.
    """

    title: str
    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...] = ()
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    box_width: float = 1.6

    def __post_init__(self):
        keys = [node.key for node in self.nodes]
        if len(set(keys)) != len(keys):
            raise ValueError(f"node keys must be unique, got {keys}")
        for node in self.nodes:
            if node.kind not in DIAGRAM_STYLES:
                raise ValueError(f"node {node.key!r}: kind must be one of {list(DIAGRAM_STYLES)}, got {node.kind!r}")
        for edge in self.edges:
            missing = [k for k in (edge.source, edge.target) if k not in keys]
            if missing:
                raise ValueError(
                    f"edge {edge.source!r} -> {edge.target!r} names unknown nodes {missing}; nodes: {keys}"
                )
            if edge.route not in _DIAGRAM_ROUTES:
                raise ValueError(f"edge {edge.source!r} -> {edge.target!r}: route must be one of {_DIAGRAM_ROUTES}")
        for label, members in self.groups:
            missing = [k for k in members if k not in keys]
            if missing:
                raise ValueError(f"group {label!r} names unknown nodes {missing}")

    @property
    def layers(self) -> tuple[DiagramNode, ...]:
        """The nodes drawn as layer boxes (convolutions, pools, norms, activations, linear layers)."""
        return tuple(node for node in self.nodes if node.kind in LAYER_KINDS)


@dataclasses.dataclass(frozen=True)
class _DiagramPlace:
    cx: float
    cy: float
    w: float
    h: float

    @property
    def left(self):
        return self.cx - self.w / 2

    @property
    def right(self):
        return self.cx + self.w / 2

    @property
    def top(self):
        return self.cy - self.h / 2

    @property
    def bottom(self):
        return self.cy + self.h / 2


_DG_WIDTHS: dict[tuple[str, float, bool], float] = {}


def _diagram_text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in inches of ``text`` set in the default font at ``size`` points (no renderer needed; cached)."""
    if not text:
        return 0.0
    key = (text, size, bold)
    if key not in _DG_WIDTHS:
        prop = matplotlib.font_manager.FontProperties(weight="bold" if bold else "normal", size=size)
        width, _, _ = matplotlib.textpath.text_to_path.get_text_width_height_descent(text, prop, ismath=False)
        _DG_WIDTHS[key] = width / 72
    return _DG_WIDTHS[key]


def _diagram_box_width(spec: DiagramSpec) -> float:
    """``spec.box_width``, or wider if a one-column box's text or note needs it."""
    widths = [spec.box_width]
    for node in spec.nodes:
        if node.span == 1 and (node.kind in LAYER_KINDS or node.kind == "concat"):
            widths += [_diagram_text_width(node.text, _DG_FONT) + 0.3, _diagram_text_width(node.note, _DG_NOTE) + 0.3]
    return max(widths)


def _diagram_place(node: DiagramNode, box_w: float) -> _DiagramPlace:
    pitch = box_w + _DG_COL_GAP
    cx = node.col * pitch
    cy = _DG_TITLE_H + node.row * _DG_ROW + _DG_ROW / 2
    wide = (node.span - 1) * pitch + box_w
    if node.kind in _DIAGRAM_MERGES:
        return _DiagramPlace(cx, cy, 2 * _DG_MERGE_R, 2 * _DG_MERGE_R)
    if node.kind == "concat":
        return _DiagramPlace(cx, cy, wide, 0.3)
    if node.kind == "io":
        return _DiagramPlace(cx, cy, wide, 0.28)
    return _DiagramPlace(cx, cy, wide, _DG_BOX_H)


def _diagram_lane(edge: DiagramEdge, box_w: float) -> float:
    return edge.lane if edge.lane is not None else -(box_w / 2 + 0.3)


def _diagram_route(places: dict, edge: DiagramEdge, box_w: float) -> tuple[list[tuple[float, float]], tuple | None]:
    """The arrow's vertices (inches, y down) and, for a skip, the branch point (where a dot is drawn)."""
    s, t = places[edge.source], places[edge.target]
    eps = 1e-9
    if edge.route == "skip":
        lane = s.cx + _diagram_lane(edge, box_w)
        branch_y = s.bottom + 0.12
        side = t.left if lane < t.cx else t.right
        return [(s.cx, s.bottom), (s.cx, branch_y), (lane, branch_y), (lane, t.cy), (side, t.cy)], (s.cx, branch_y)
    if edge.route == "side":
        to_right = t.cx > s.cx
        side = t.left if to_right else t.right
        if s.top - eps <= t.cy <= s.bottom + eps:  # level with the source: straight across
            return [(s.right if to_right else s.left, t.cy), (side, t.cy)], None
        return [(s.cx, s.bottom), (s.cx, t.cy), (side, t.cy)], None
    if abs(s.cx - t.cx) < eps or t.left + eps < s.cx < t.right - eps:  # same column, or into a wide bar
        return [(s.cx, s.bottom), (s.cx, t.top)], None
    if s.left + eps < t.cx < s.right - eps:  # out of a wide label straight down
        return [(t.cx, s.bottom), (t.cx, t.top)], None
    elbow = s.bottom + min(0.13, (t.top - s.bottom) / 2)
    return [(s.cx, s.bottom), (s.cx, elbow), (t.cx, elbow), (t.cx, t.top)], None


def _diagram_frame(places: dict, members) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a group frame around ``members``."""
    pad = 0.1
    boxes = [places[k] for k in members]
    return (
        min(b.left for b in boxes) - pad,
        min(b.top for b in boxes) - pad,
        max(b.right for b in boxes) + pad,
        max(b.bottom for b in boxes) + pad,
    )


def _diagram_layout(spec: DiagramSpec):
    """Box width, node places and the drawing's extent (left, right, top, bottom), in inches at scale 1."""
    box_w = _diagram_box_width(spec)
    places = {node.key: _diagram_place(node, box_w) for node in spec.nodes}
    xs = [p.left for p in places.values()] + [p.right for p in places.values()]
    ys = [p.bottom for p in places.values()]
    for node in spec.nodes:
        p = places[node.key]
        if node.kind == "io":  # a label may be wider than its column
            half = _diagram_text_width(node.text, _DG_FONT, bold=True) / 2
            xs += [p.cx - half, p.cx + half]
        elif node.kind in _DIAGRAM_MERGES and node.text:  # a note beside the circle, on either side
            reach = _DG_MERGE_R + 0.1 + _diagram_text_width(node.text, _DG_NOTE)
            xs += [p.cx - reach, p.cx + reach]
    for edge in spec.edges:
        if edge.route == "skip":
            lane = places[edge.source].cx + _diagram_lane(edge, box_w)
            xs += [lane - (0.25 if edge.label else 0.05), lane + 0.05]
    for label, members in spec.groups:
        left, _, right, bottom = _diagram_frame(places, members)
        half = _diagram_text_width(label, _DG_NOTE) / 2
        xs += [left, right, (left + right) / 2 - half, (left + right) / 2 + half]
        ys.append(bottom + 0.25)  # the group's label under its frame
    left = min(xs) - _DG_EDGE
    right = max(max(xs), left + _DG_EDGE + _diagram_text_width(spec.title, _DG_TITLE, bold=True)) + _DG_EDGE
    return box_w, places, (left, right, 0.0, max(ys) + _DG_EDGE)


def diagram_size(spec: DiagramSpec, scale: float = 1.0) -> tuple[float, float]:
    """(width, height) in inches of a figure that shows ``spec`` at ``scale`` (pass it to ``figsize``).

    The diagram fills such a figure when its axes do (``fig.subplots_adjust(0, 0, 1, 1)``); in smaller axes
    it shrinks, text and lines included.
    """
    _, _, (left, right, top, bottom) = _diagram_layout(spec)
    return round(float(right - left) * scale, 3), round(float(bottom - top) * scale, 3)


class BlockDiagram:
    """A block diagram drawn by :func:`draw_block_diagram`: its artists, by node key.

    ``boxes``: the layer boxes (one per node in ``spec.layers``); ``merges``: the add/mul circles and concat
    bars; ``texts``/``notes``: the labels; ``arrows``: one per edge, in the spec's order; ``frames``: the group
    frames; ``scale``: the drawing's size relative to :func:`diagram_size` (text and lines scale with it).
    """

    def __init__(self, ax: Axes, spec: DiagramSpec):
        self.ax, self.spec = ax, spec
        box_w, places, (left, right, top, bottom) = _diagram_layout(spec)
        ax.set_xlim(left, right)
        ax.set_ylim(bottom, top)  # y points down, as the rows do
        ax.set_aspect("equal")
        ax.set_axis_off()
        fig_w, fig_h = ax.figure.get_size_inches()
        box = ax.get_position()
        self.scale = scale = min(box.width * fig_w / (right - left), box.height * fig_h / (bottom - top))
        lw = 1.1 * scale
        self.boxes: dict[str, matplotlib.patches.FancyBboxPatch] = {}
        self.merges: dict[str, object] = {}
        self.texts: dict[str, object] = {}
        self.notes: dict[str, object] = {}
        self.arrows: list[FancyArrowPatch] = []
        self.frames: list[matplotlib.patches.FancyBboxPatch] = []
        routes = [_diagram_route(places, edge, box_w) for edge in spec.edges]

        for label, members in spec.groups:
            x0, y0, x1, y1 = _diagram_frame(places, members)
            frame = matplotlib.patches.FancyBboxPatch(
                (x0, y0),
                x1 - x0,
                y1 - y0,
                boxstyle="round,pad=0,rounding_size=0.08",
                facecolor="none",
                edgecolor="#888888",
                linestyle=(0, (4, 3)),
                linewidth=0.9 * scale,
                zorder=1,
            )
            ax.add_patch(frame)
            self.frames.append(frame)
            ax.text((x0 + x1) / 2, y1 + 0.06, label, ha="center", va="top", fontsize=_DG_NOTE * scale, color="#666666")

        for node in spec.nodes:
            p = places[node.key]
            face, edge = DIAGRAM_STYLES[node.kind]
            if node.kind in _DIAGRAM_MERGES:
                patch = matplotlib.patches.Circle(
                    (p.cx, p.cy), _DG_MERGE_R, facecolor=face, edgecolor=edge, linewidth=lw, zorder=3
                )
                ax.add_patch(patch)
                self.merges[node.key] = patch
                self.texts[node.key] = ax.text(
                    p.cx,
                    p.cy,
                    _DIAGRAM_MERGES[node.kind],
                    ha="center",
                    va="center_baseline",
                    fontsize=_DG_FONT * 1.3 * scale,
                    color=_DG_LINE,
                    zorder=4,
                )
                if node.text:  # e.g. "then ReLU", on the side no arrow comes in from
                    ends = [v[-1][0] for (v, _), e in zip(routes, spec.edges, strict=True) if e.target == node.key]
                    right_free = not any(x > p.cx + 1e-9 for x in ends)
                    x = p.cx + (1 if right_free else -1) * (_DG_MERGE_R + 0.08)
                    self.notes[node.key] = ax.text(
                        x,
                        p.cy,
                        node.text,
                        ha="left" if right_free else "right",
                        va="center",
                        fontsize=_DG_NOTE * scale,
                        color="#555555",
                        zorder=4,
                    )
                continue
            rounding = 0.06 if node.kind != "concat" else 0.12
            patch = matplotlib.patches.FancyBboxPatch(
                (p.left, p.top),
                p.w,
                p.h,
                boxstyle=f"round,pad=0,rounding_size={rounding}",
                facecolor=face,
                edgecolor=edge,
                linewidth=lw,
                zorder=3,
            )
            ax.add_patch(patch)
            if node.kind in LAYER_KINDS:
                self.boxes[node.key] = patch
            elif node.kind == "concat":
                self.merges[node.key] = patch
            else:
                patch.set_visible(False)  # an io label: the box only anchors the arrows
            self.texts[node.key] = ax.text(
                p.cx,
                p.cy - 0.075 if node.note else p.cy,
                node.text,
                ha="center",
                va="center",
                fontsize=_DG_FONT * scale,
                color=COLORS["text"],
                fontweight="bold" if node.kind == "io" else "normal",
                zorder=4,
            )
            if node.note:
                self.notes[node.key] = ax.text(
                    p.cx, p.cy + 0.115, node.note, ha="center", va="center", fontsize=_DG_NOTE * scale, color="#555555"
                )

        for edge, (vertices, branch) in zip(spec.edges, routes, strict=True):
            color = COLORS["highlight"] if edge.shortcut else _DG_LINE
            arrow = FancyArrowPatch(
                path=matplotlib.path.Path(vertices),
                arrowstyle="-|>",
                mutation_scale=9 * scale,
                shrinkA=0,
                shrinkB=0,
                color=color,
                linewidth=lw,
                joinstyle="miter",
                zorder=2,
            )
            ax.add_patch(arrow)
            self.arrows.append(arrow)
            if branch is not None:
                ax.add_patch(matplotlib.patches.Circle(branch, 0.035, facecolor=color, edgecolor="none", zorder=2))
            if edge.route == "skip" and edge.label:
                (lane, y0), (_, y1) = vertices[2], vertices[3]
                ax.text(
                    lane - 0.07,
                    (y0 + y1) / 2,
                    edge.label,
                    rotation=90,
                    ha="right",
                    va="center",
                    fontsize=_DG_NOTE * 1.05 * scale,
                    color=color,
                )

        self.title = ax.text(
            left + _DG_EDGE,
            _DG_TITLE_H / 2,
            spec.title,
            ha="left",
            va="center",
            fontsize=_DG_TITLE * scale,
            fontweight="bold",
            color=COLORS["text"],
        )


def draw_block_diagram(ax: Axes, spec: DiagramSpec) -> BlockDiagram:
    """Draw ``spec`` on ``ax`` (its limits are set, its frame hidden) and return the :class:`BlockDiagram`.

    Sizes are in inches at scale 1: a figure of :func:`diagram_size` whose axes fill it shows the diagram at
    that size (boxes widen to fit their text); smaller axes shrink it, text and lines included.
    """
    return BlockDiagram(ax, spec)


def _diagram_tensor(channels: int, size: int | None) -> str:
    return f"{channels} ch, {size}{_DIAGRAM_X}{size}" if size else f"{channels} ch"


def _diagram_kernel(kernel_size: int) -> str:
    return f"{kernel_size}{_DIAGRAM_X}{kernel_size}"


def basic_block_spec(channels: int = 64, size: int = 56) -> DiagramSpec:
    """ResNet's basic block (``models.BasicBlock(channels, channels)``): two 3x3 convs and the identity."""
    n, e = DiagramNode, DiagramEdge
    return DiagramSpec(
        f"Residual basic block (ResNet-18), {channels} channels",
        (
            n("x", "io", f"x: {_diagram_tensor(channels, size)}"),
            n("conv1", "conv", f"3{_DIAGRAM_X}3 conv, {channels}", "BN, ReLU", row=1),
            n("conv2", "conv", f"3{_DIAGRAM_X}3 conv, {channels}", "BN", row=2),
            n("add", "add", "then ReLU", row=3),
            n("out", "io", _diagram_tensor(channels, size), row=4),
        ),
        (
            e("x", "conv1"),
            e("conv1", "conv2"),
            e("conv2", "add"),
            e("add", "out"),
            e("x", "add", "skip", shortcut=True, label="identity"),
        ),
    )


def bottleneck_spec(in_channels: int = 64, width: int = 64, stride: int = 1, size: int = 56) -> DiagramSpec:
    """ResNet's bottleneck (``models.Bottleneck(in_channels, width, stride)``): 1x1 down, 3x3, 1x1 up to 4*width.

    With a stride or a change of channels the shortcut is a 1x1 projection (drawn in a second column),
    otherwise the identity.
    """
    out = 4 * width
    out_size = -(-size // stride) if size else None
    s = f", stride {stride}" if stride != 1 else ""
    n, e = DiagramNode, DiagramEdge
    nodes = [
        n("x", "io", f"x: {_diagram_tensor(in_channels, size)}"),
        n("conv1", "conv", f"1{_DIAGRAM_X}1 conv, {width}", "reduce; BN, ReLU", row=1),
        n("conv2", "conv", f"3{_DIAGRAM_X}3 conv, {width}{s}", "BN, ReLU", row=2),
        n("conv3", "conv", f"1{_DIAGRAM_X}1 conv, {out}", "expand; BN", row=3),
        n("add", "add", "then ReLU", row=4),
        n("out", "io", _diagram_tensor(out, out_size), row=5),
    ]
    edges = [e("x", "conv1"), e("conv1", "conv2"), e("conv2", "conv3"), e("conv3", "add"), e("add", "out")]
    if stride != 1 or in_channels != out:
        nodes.append(n("proj", "conv", f"1{_DIAGRAM_X}1 conv, {out}{s}", "projection; BN", col=1, row=2))
        edges += [e("x", "proj", shortcut=True), e("proj", "add", "side", shortcut=True)]
    else:
        edges.append(e("x", "add", "skip", shortcut=True, label="identity"))
    return DiagramSpec(
        f"Bottleneck block (ResNet-50), {in_channels} {chr(8594)} {out} channels", tuple(nodes), tuple(edges)
    )


def inception_spec(
    in_channels: int = 192,
    ch1x1: int = 64,
    ch3x3red: int = 96,
    ch3x3: int = 128,
    ch5x5red: int = 16,
    ch5x5: int = 32,
    pool_proj: int = 32,
    size: int = 28,
) -> DiagramSpec:
    """GoogLeNet's Inception module (``models.Inception``; default: module 3a): four branches, concatenated.

    As in ``models.Inception`` (and torchvision), the "5x5" branch uses a 3x3 kernel; every conv has BN + ReLU.
    """
    out = ch1x1 + ch3x3 + ch5x5 + pool_proj
    n, e = DiagramNode, DiagramEdge
    nodes = (
        n("x", "io", f"x: {_diagram_tensor(in_channels, size)}", col=1.5, span=4),
        n("b1", "conv", f"1{_DIAGRAM_X}1 conv, {ch1x1}", col=0, row=1),
        n("b2a", "conv", f"1{_DIAGRAM_X}1 conv, {ch3x3red}", "reduce", col=1, row=1),
        n("b2b", "conv", f"3{_DIAGRAM_X}3 conv, {ch3x3}", col=1, row=2),
        n("b3a", "conv", f"1{_DIAGRAM_X}1 conv, {ch5x5red}", "reduce", col=2, row=1),
        n("b3b", "conv", f"3{_DIAGRAM_X}3 conv, {ch5x5}", "the paper's 5\u00d75", col=2, row=2),
        n("b4a", "pool", f"3{_DIAGRAM_X}3 max pool", "stride 1, keeps the size", col=3, row=1),
        n("b4b", "conv", f"1{_DIAGRAM_X}1 conv, {pool_proj}", "projection", col=3, row=2),
        n("cat", "concat", f"concat: {ch1x1} + {ch3x3} + {ch5x5} + {pool_proj} = {out} ch", col=1.5, row=3, span=4),
        n("out", "io", _diagram_tensor(out, size), col=1.5, row=4, span=4),
    )
    edges = (
        e("x", "b1"),
        e("x", "b2a"),
        e("x", "b3a"),
        e("x", "b4a"),
        e("b1", "cat"),
        e("b2a", "b2b"),
        e("b2b", "cat"),
        e("b3a", "b3b"),
        e("b3b", "cat"),
        e("b4a", "b4b"),
        e("b4b", "cat"),
        e("cat", "out"),
    )
    return DiagramSpec("Inception module (GoogLeNet 3a); every conv: BN, ReLU", nodes, edges)


def dense_block_spec(
    in_channels: int = 64, growth_rate: int = 32, bn_size: int = 4, num_layers: int = 2, size: int = 56
) -> DiagramSpec:
    """A DenseNet-BC dense block (``models.DenseBlock``) followed by a transition (``models.Transition``).

    Each dense layer (BN, ReLU, 1x1 conv to bn_size*growth; BN, ReLU, 3x3 conv to growth) appends its
    ``growth_rate`` new channels to everything before it; the transition halves channels and size.
    """
    n, e = DiagramNode, DiagramEdge
    wide = bn_size * growth_rate
    nodes = [n("x", "io", f"x: {_diagram_tensor(in_channels, size)}")]
    edges = []
    previous, channels = "x", in_channels
    for i in range(1, num_layers + 1):
        row = 3 * i - 2
        nodes += [
            n(f"l{i}a", "conv", f"1{_DIAGRAM_X}1 conv, {wide}", "after BN, ReLU", row=row),
            n(f"l{i}b", "conv", f"3{_DIAGRAM_X}3 conv, {growth_rate}", "after BN, ReLU", row=row + 1),
            n(f"cat{i}", "concat", f"concat: {channels} + {growth_rate} = {channels + growth_rate} ch", row=row + 2),
        ]
        edges += [
            e(previous, f"l{i}a"),
            e(f"l{i}a", f"l{i}b"),
            e(f"l{i}b", f"cat{i}"),
            e(previous, f"cat{i}", "skip", shortcut=True, label="copy"),
        ]
        previous, channels = f"cat{i}", channels + growth_rate
    half, row = channels // 2, 3 * num_layers + 1
    half_size = size // 2 if size else None
    nodes += [
        n("t_conv", "conv", f"1{_DIAGRAM_X}1 conv, {half}", "transition; after BN, ReLU", row=row),
        n("t_pool", "pool", f"2{_DIAGRAM_X}2 avg pool, stride 2", row=row + 1),
        n("out", "io", _diagram_tensor(half, half_size), row=row + 2),
    ]
    edges += [e(previous, "t_conv"), e("t_conv", "t_pool"), e("t_pool", "out")]
    return DiagramSpec(
        f"Dense block ({num_layers} layers, growth {growth_rate}) + transition", tuple(nodes), tuple(edges)
    )


def depthwise_separable_spec(in_channels: int = 32, out_channels: int = 64, size: int = 112) -> DiagramSpec:
    """MobileNet's depthwise separable conv (``models.DepthwiseSeparableConv``) beside the 3x3 conv it replaces."""
    n, e = DiagramNode, DiagramEdge
    nodes = (
        n("x0", "io", f"standard: {_diagram_tensor(in_channels, size)}"),
        n("conv", "conv", f"3{_DIAGRAM_X}3 conv, {out_channels}", f"each filter sees all {in_channels} ch", row=1.5),
        n("out0", "io", _diagram_tensor(out_channels, size), row=3),
        n("x", "io", f"separable: {_diagram_tensor(in_channels, size)}", col=1),
        n(
            "dw",
            "dwconv",
            f"3{_DIAGRAM_X}3 depthwise conv, {in_channels}",
            "one filter per channel; BN, ReLU",
            col=1,
            row=1,
        ),
        n("pw", "conv", f"1{_DIAGRAM_X}1 conv, {out_channels}", "pointwise: mixes channels; BN, ReLU", col=1, row=2),
        n("out", "io", _diagram_tensor(out_channels, size), col=1, row=3),
    )
    edges = (e("x0", "conv"), e("conv", "out0"), e("x", "dw"), e("dw", "pw"), e("pw", "out"))
    return DiagramSpec("Standard 3\u00d73 conv vs depthwise separable conv (MobileNet)", nodes, edges)


def inverted_residual_se_spec(
    in_channels: int = 24,
    out_channels: int = 24,
    kernel_size: int = 3,
    expand_ratio: int = 6,
    se_ratio: float = 0.25,
    stride: int = 1,
    size: int = 56,
) -> DiagramSpec:
    """EfficientNet's MBConv (``models.MBConv``): MobileNetV2's inverted residual with squeeze-excitation.

    Expand 1x1 (narrow to wide), depthwise k x k, squeeze-excitation gate, project 1x1 (wide to narrow, no
    activation); the input is added back when stride is 1 and the channels match. Activation: SiLU.
    """
    hidden = in_channels * expand_ratio
    squeeze = max(1, int(in_channels * se_ratio))
    s = f", stride {stride}" if stride != 1 else ""
    out_size = -(-size // stride) if size else None
    n, e = DiagramNode, DiagramEdge
    residual = stride == 1 and in_channels == out_channels
    nodes = [
        n("x", "io", f"x: {_diagram_tensor(in_channels, size)}"),
        n("expand", "conv", f"1{_DIAGRAM_X}1 conv, {hidden}", f"expand {_DIAGRAM_X}{expand_ratio}; BN, SiLU", row=1),
        n("dw", "dwconv", f"{_diagram_kernel(kernel_size)} depthwise conv, {hidden}{s}", "BN, SiLU", row=2),
        n("pool", "pool", "global avg pool", f"{hidden} numbers", col=1, row=3),
        n("fc1", "conv", f"1{_DIAGRAM_X}1 conv, {squeeze}", "squeeze; SiLU", col=1, row=4),
        n("fc2", "conv", f"1{_DIAGRAM_X}1 conv, {hidden}", "sigmoid: one gate per channel", col=1, row=5),
        n("scale", "mul", row=5),
        n("project", "conv", f"1{_DIAGRAM_X}1 conv, {out_channels}", "project; BN, no activation", row=6),
    ]
    edges = [
        e("x", "expand"),
        e("expand", "dw"),
        e("dw", "pool"),
        e("pool", "fc1"),
        e("fc1", "fc2"),
        e("fc2", "scale", "side"),
        e("dw", "scale"),
        e("scale", "project"),
    ]
    if residual:
        nodes += [n("add", "add", row=7), n("out", "io", _diagram_tensor(out_channels, out_size), row=8)]
        edges += [e("project", "add"), e("add", "out"), e("x", "add", "skip", shortcut=True, label="identity")]
    else:
        nodes.append(n("out", "io", _diagram_tensor(out_channels, out_size), row=7))
        edges.append(e("project", "out"))
    return DiagramSpec(
        f"MBConv: inverted residual + squeeze-excitation, {in_channels} ch",
        tuple(nodes),
        tuple(edges),
        groups=(("squeeze-and-excitation", ("pool", "fc1", "fc2")),),
    )


def convnext_block_spec(dim: int = 96, size: int = 56) -> DiagramSpec:
    """The ConvNeXt block (``models.ConvNeXtBlock``): 7x7 depthwise, LayerNorm, 1x1 up 4x, GELU, 1x1 down."""
    n, e = DiagramNode, DiagramEdge
    nodes = (
        n("x", "io", f"x: {_diagram_tensor(dim, size)}"),
        n("dw", "dwconv", f"7{_DIAGRAM_X}7 depthwise conv, {dim}", "mixes space, per channel", row=1),
        n("norm", "norm", "LayerNorm", "over the channels, at each pixel", row=2),
        n("pw1", "conv", f"1{_DIAGRAM_X}1 conv, {4 * dim}", "expand 4\u00d7; GELU", row=3),
        n("pw2", "conv", f"1{_DIAGRAM_X}1 conv, {dim}", "project back", row=4),
        n("gamma", "norm", "layer scale \u03b3", f"{dim} weights, start at 1e\u22126", row=5),
        n("add", "add", row=6),
        n("out", "io", _diagram_tensor(dim, size), row=7),
    )
    edges = (
        e("x", "dw"),
        e("dw", "norm"),
        e("norm", "pw1"),
        e("pw1", "pw2"),
        e("pw2", "gamma"),
        e("gamma", "add"),
        e("add", "out"),
        e("x", "add", "skip", shortcut=True, label="identity"),
    )
    return DiagramSpec(f"ConvNeXt block, {dim} channels", nodes, edges)


BLOCK_DIAGRAMS = {
    "basic": basic_block_spec,
    "bottleneck": bottleneck_spec,
    "inception": inception_spec,
    "dense": dense_block_spec,
    "depthwise_separable": depthwise_separable_spec,
    "inverted_residual_se": inverted_residual_se_spec,
    "convnext": convnext_block_spec,
}
"""Every block diagram's spec function by name; each called with no arguments gives the lesson's example."""


def format_count(count: int) -> str:
    """A parameter count as the bar chart writes it: ``156``, ``9.5 k``, ``11.7 M``."""
    count = int(count)
    if abs(count) >= 1_000_000:
        return f"{count / 1e6:.1f} M"
    if abs(count) >= 1_000:
        return f"{count / 1e3:.1f} k"
    return str(count)


class StageParameterView:
    """Parameters per stage of a model as vertical bars, one per top-level child, in order.

    A pool of ``max_stages`` bars, stage-name labels and value labels is made once; :meth:`update` sets their
    heights and texts (``set_height``, ``set_text``), hides the ones it does not need (``set_visible``) and
    rescales the y axis, so an explorer redraws without making artists. Stages without parameters (pooling)
    keep their place, with a 0. The largest stage is drawn in the highlight colour.
    """

    def __init__(self, fig: Figure, max_stages: int = 16, *, fontsize: float = 9):
        self.fig, self.max_stages = fig, max_stages
        self.ax = fig.add_axes((0.085, 0.3, 0.9, 0.6))
        self.bars = list(
            self.ax.bar(
                range(max_stages),
                [0] * max_stages,
                width=0.7,
                color=COLORS["kernel"],
                edgecolor="#6a8caf",
                linewidth=0.8,
            )
        )
        below = matplotlib.transforms.blended_transform_factory(self.ax.transData, self.ax.transAxes)
        names, values = TextBatch(self.ax, transform=below), TextBatch(self.ax)  # each drawn in one call
        self.names = [
            names.text(i, -0.03, "", rotation=35, ha="right", va="top", fontsize=fontsize) for i in range(max_stages)
        ]
        self.values = [
            values.text(i, 0, "", ha="center", va="bottom", fontsize=fontsize - 1) for i in range(max_stages)
        ]
        above = self.ax.transAxes + matplotlib.transforms.ScaledTranslation(0, 6 / 72, fig.dpi_scale_trans)
        self.title = TextBatch(self.ax, transform=above).text(0, 1, "", ha="left", fontsize=fontsize + 1)
        # every bar carries its own number, so no y axis: nothing to read twice, and no tick labels to lay out
        # again for each model (they were most of a redraw's time)
        self.ax.set_xticks([])
        self.ax.set_yticks([])
        for side in ("top", "right", "left"):
            self.ax.spines[side].set_visible(False)
        for artist in (*self.bars, *self.names, *self.values):
            artist.set_visible(False)

    def update(self, counts: dict, name: str = "") -> None:
        """Show ``counts`` (stage name -> parameters, e.g. ``models.stage_parameter_counts(model)``)."""
        items = list(counts.items())
        if len(items) > self.max_stages:
            raise ValueError(
                f"{name or 'the model'} has {len(items)} stages but the chart was made with room for "
                f"{self.max_stages}; make the view with max_stages={len(items)} or more"
            )
        total = sum(value for _, value in items)
        largest = max(range(len(items)), key=lambda i: items[i][1]) if items else -1
        for i, (bar, label, value_text) in enumerate(zip(self.bars, self.names, self.values, strict=True)):
            shown = i < len(items)
            for artist in (bar, label, value_text):
                artist.set_visible(shown)
            if not shown:
                continue
            stage, value = items[i]
            bar.set_height(value)
            bar.set_facecolor(COLORS["current"] if i == largest and value else COLORS["kernel"])
            label.set_text(stage)
            value_text.set_position((i, value))
            value_text.set_text(format_count(value))
        self.ax.set_xlim(-0.6, max(len(items), 1) - 0.4)
        top = max((value for _, value in items), default=0)
        self.ax.set_ylim(0, top * 1.15 if top else 1)
        if items and total:
            share = 100 * items[largest][1] / total
            self.title.set_text(
                f"{name}: {total:,} parameters by stage; the largest, {items[largest][0]}, holds {share:.0f}%"
            )
        else:
            self.title.set_text(f"{name}: no parameters")

    def shown(self) -> dict[str, int]:
        """What the chart shows now, read back from the artists: stage name -> bar height."""
        return {
            label.get_text(): int(round(bar.get_height()))
            for bar, label in zip(self.bars, self.names, strict=True)
            if bar.get_visible()
        }


# --- lesson 03: feature maps of a trained network ---------------------------------------------------------------

__all__ += ["FeatureMapView"]


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
        self.input_image = _still_image(self.ax_input, np.zeros((2, 2)), "gray_r", (0.0, 1.0))
        self.map_image = _still_image(self.ax_map, np.zeros((2, 2)), DIVERGING, (-1.0, 1.0))
        for ax in (self.ax_input, self.ax_map):
            _framed(ax)
        self.input_title = _axes_title(self.ax_input, "", fontsize, top)
        self.map_title = _axes_title(self.ax_map, "", fontsize, top)
        self.colorbar = ColorBar(self.ax_colorbar, self.map_image, fontsize=fontsize - 2)
        _framed(self.ax_colorbar)

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
