"""Grids of annotated square cells (:class:`Grid`, :func:`draw_grid`) and cells drawn in bulk.

A grid's cells are one collection and its numbers one :class:`~cnn_lessons.drawing.text.TextBatch`, made once;
``set_values``, ``set_facecolors`` and ``color_by_value`` change them in place. :func:`fit_cells` sizes the
cells of a panel in inches, so that a grid keeps square cells whatever its shape."""

from __future__ import annotations

import functools

import matplotlib.colors as mcolors
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import Collection, PolyCollection
from matplotlib.patches import Polygon, Rectangle
from matplotlib.path import Path

from cnn_lessons.drawing.style import COLORS, DIVERGING, colormap, format_number
from cnn_lessons.drawing.text import TextBatch, bulk_drawing, each_row

__all__ = [
    "Grid",
    "draw_grid",
    "outline",
    "cell_axes",
    "CellCollection",
    "cell_paths",
    "cell_squares",
    "cell_collection",
    "outline_collection",
    "cell_centres",
    "fit_cells",
    "number_size",
]


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
        """Colour the numbers: one colour for all, or one per cell (nested lists)."""
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
        colors = colormap(cmap)

        def tint(v):
            rgb = colors(0.5 + 0.5 * v / vmax if vmax > 0 else 0.5)[:3]
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


def outline(ax: Axes, *, fill_alpha: float = 0.0, linewidth: float = 2.6) -> Rectangle:
    """A highlight rectangle on ``ax`` (a window, the current output), at (0, 0) until moved with ``set_bounds``."""
    color = COLORS["highlight"]
    patch = Rectangle(
        (0, 0), 1, 1, facecolor=mcolors.to_rgba(color, fill_alpha), edgecolor=color, linewidth=linewidth, zorder=3
    )
    ax.add_patch(patch)
    return patch


def cell_axes(ax: Axes, left: float, right: float, top: float, bottom: float) -> None:
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
    cell_axes(ax, -margin, shape[1] + margin, -margin, shape[0] + margin)
    ax.set_aspect("equal")
    if title is not None:
        ax.set_title(title, fontsize=fontsize)
    return grid


class CellCollection(PolyCollection):
    """A ``PolyCollection`` of grid cells; inside :func:`~cnn_lessons.drawing.text.naive_drawing`, a Polygon per cell.

    :meth:`set_cells` takes ready-made closed paths (see :func:`cell_paths`, cached per grid shape), which is
    much cheaper than ``set_verts`` building a Path per cell on every update.
    """

    def set_cells(self, paths) -> None:
        """Show these closed cell paths (from :func:`cell_paths`), replacing the ones shown."""
        Collection.set_paths(self, list(paths))

    def draw(self, renderer) -> None:
        if bulk_drawing() or not self.get_visible():
            super().draw(renderer)
            return
        paths = self.get_paths()
        faces, edges, widths = (each_row(v, len(paths)) for v in (
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


@functools.lru_cache(maxsize=256)
def cell_squares(rows: int, cols: int, inset: float = 0.0) -> np.ndarray:
    """(rows*cols, 4, 2) corners of unit cells, row-major, cell (r, c) at [c, c+1] x [r, r+1]."""
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    corners = np.array([(0, 0), (1, 0), (1, 1), (0, 1)], dtype=float) * (1 - 2 * inset) + inset
    squares = np.stack([c.reshape(-1), r.reshape(-1)], axis=1)[:, None, :] + corners[None, :, :]
    squares.setflags(write=False)
    return squares


_SQUARE_CODES = np.array([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY], dtype=Path.code_type)


@functools.lru_cache(maxsize=256)
def cell_paths(rows: int, cols: int, inset: float = 0.0) -> tuple[Path, ...]:
    """Closed square paths of :func:`cell_squares`, row-major, made once per shape."""
    squares = cell_squares(rows, cols, inset)
    closed = np.concatenate([squares, squares[:, :1]], axis=1)
    return tuple(Path(square, _SQUARE_CODES, readonly=True) for square in closed)


def cell_collection(ax: Axes, *, edgecolor=COLORS["edge"], linewidth: float = 0.8, zorder: float = 1):
    """An empty :class:`CellCollection` of filled cells on ``ax``; fill it with ``set_cells``."""
    cells = CellCollection([], facecolors=COLORS["input"], edgecolors=edgecolor, linewidths=linewidth, zorder=zorder)
    ax.add_collection(cells, autolim=False)
    return cells


def outline_collection(ax: Axes, *, linewidth: float = 2.2, zorder: float = 3, color=COLORS["highlight"]):
    """An empty :class:`CellCollection` of unfilled outlines (highlighted cells) on ``ax``."""
    outlines = CellCollection([], facecolors="none", edgecolors=color, linewidths=linewidth, zorder=zorder)
    ax.add_collection(outlines, autolim=False)
    return outlines


@functools.lru_cache(maxsize=256)
def cell_centres(rows: int, cols: int) -> np.ndarray:
    """The (x, y) centre of every cell of a ``rows`` x ``cols`` grid, row-major (read-only, cached)."""
    centres = cell_squares(rows, cols).mean(axis=1)
    centres.setflags(write=False)
    return centres


_MAX_CELL = 0.42  # inches: small grids do not blow up


def fit_cells(ax: Axes, box_w: float, box_h: float, cols: float, rows: float, *, left_pad=0.0, middle=False):
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


def number_size(cell_inches: float, longest: int = 2) -> float:
    """Font size (points) for numbers in cells of ``cell_inches``; 0 where they would be too small to read."""
    size = min(11.0, cell_inches * 72 * (0.44 if longest <= 2 else 0.34))
    return size if size >= 6.5 else 0.0
