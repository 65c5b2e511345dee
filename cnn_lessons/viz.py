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
"""

from __future__ import annotations

from html import escape

import matplotlib.colors as mcolors
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

__all__ = [
    "COLORS",
    "format_number",
    "Grid",
    "draw_grid",
    "step_equation",
    "StepThroughView",
    "KernelPickerView",
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
        for r in range(rows):
            patch_row, text_row = [], []
            for c in range(cols):
                patch = Rectangle(
                    (x + c, y + r), 1, 1, facecolor=facecolor, edgecolor=edgecolor, linewidth=linewidth, zorder=1
                )
                ax.add_patch(patch)
                text = ax.text(
                    x + c + 0.5,
                    y + r + 0.5,
                    "",
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                    color=COLORS["text"],
                    zorder=4,
                )
                patch_row.append(patch)
                text_row.append(text)
            self.patches.append(patch_row)
            self.texts.append(text_row)

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
        cell = cell_inches if cell_inches is not None else min(0.45, 9.0 / width)
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
        small = fontsize - 1

        # 1-D: rows, labels, window outline, sum arrow, current-output outline, heading
        self.input1d = Grid(ax1, (1, padded_len), y=_ROW_Y["input"], fontsize=fontsize)
        self.kernel1d = Grid(ax1, (1, kernel_len), y=_ROW_Y["kernel"], facecolor=COLORS["kernel"], fontsize=fontsize)
        self.product1d = Grid(ax1, (1, kernel_len), y=_ROW_Y["product"], facecolor=COLORS["product"], fontsize=fontsize)
        self.output1d = Grid(ax1, (1, out_len), x=out_left, y=_ROW_Y["output"], fontsize=fontsize)
        self.labels1d = {
            key: ax1.text(-0.25, _ROW_Y[key] + 0.5, text, ha="right", va="center", fontsize=small, color=COLORS["text"])
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
        self.sum1d = ax1.text(
            0, 0, "\u03a3", ha="left", va="center", fontsize=small, color=COLORS["highlight"], zorder=4
        )
        self.heading1d = ax1.text(
            -_LABEL_WIDTH, -0.6, "", ha="left", va="center", fontsize=fontsize + 0.5, color=COLORS["text"]
        )

        # 2-D: image, kernel, products, output grids with titles, outlines, heading
        self.input2d = Grid(ax2, (ph, pw), fontsize=fontsize)
        self.kernel2d = Grid(ax2, (kh, kw), x=self._x2["kernel"], facecolor=COLORS["kernel"], fontsize=fontsize)
        self.product2d = Grid(ax2, (kh, kw), x=self._x2["product"], facecolor=COLORS["product"], fontsize=fontsize)
        self.output2d = Grid(ax2, (oh, ow), x=self._x2["output"], fontsize=fontsize)
        self.titles2d = {
            key: ax2.text(self._x2[key], -0.3, text, ha="left", va="center", fontsize=small, color=COLORS["text"])
            for key, text in (
                ("input", "input x, window outlined"),
                ("kernel", "kernel w"),
                ("product", "products"),
                ("output", "output"),
            )
        }
        middle = kh / 2
        ax2.text(
            self._x2["kernel"] - _GAP / 2,
            middle,
            "\u2299",
            ha="center",
            va="center",
            fontsize=fontsize + 3,
            color=COLORS["text"],
        )  # the window times ...
        ax2.text(
            self._x2["product"] - _GAP / 2,
            middle,
            "=",
            ha="center",
            va="center",
            fontsize=fontsize + 3,
            color=COLORS["text"],
        )
        ax2.text(
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
        self.heading2d = ax2.text(
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
        side, cell, gap, top, bottom = 2.75, 0.5, 0.45, 0.35, 0.12
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
        self.photo_image = self.ax_photo.imshow(
            photo.numpy(), cmap="gray", vmin=self.photo_clim[0], vmax=self.photo_clim[1], interpolation="nearest"
        )
        self.ax_photo.set_title("original (grayscale)", fontsize=fontsize)
        self.result_image = self.ax_result.imshow(
            torch.zeros_like(photo).numpy(), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest"
        )
        self.result_title = self.ax_result.set_title("", fontsize=fontsize)
        for ax in (self.ax_photo, self.ax_result):
            ax.set_xticks([])
            ax.set_yticks([])
        self.colorbar = fig.colorbar(self.result_image, cax=self.ax_colorbar)
        self.colorbar.ax.tick_params(labelsize=fontsize - 2)

        pad = (kernel_w / cell - kw) / 2
        self.kernel_grid = Grid(self.ax_kernel, (kh, kw), fontsize=fontsize + 1)
        _cell_axes(self.ax_kernel, -pad, kw + pad, -0.04, kh + 0.04)  # room for the border lines
        self.kernel_title = self.ax_kernel.text(kw / 2, -0.35, "", ha="center", va="bottom", fontsize=fontsize)
        self.kernel_note = self.ax_kernel.text(
            kw / 2, kh + 0.3, "", ha="center", va="top", fontsize=fontsize - 1, color="#555555"
        )
        # photo (correlated with) kernel = result, the operators between the panels
        self.ax_kernel.text(
            -pad - gap / 2 / cell,
            kh / 2,
            "\u22c6",
            ha="center",
            va="center",
            fontsize=fontsize + 10,
            color=COLORS["text"],
            clip_on=False,
        )
        self.ax_kernel.text(
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
