"""Text drawn in bulk: a block of labels is one path collection, drawn in one call.

matplotlib draws each ``Text`` in about a millisecond, too slow for a slider step with a hundred numbers;
:class:`TextBatch` lays out glyph outlines once (cached per character) and updates the labels in place.
:func:`naive_drawing` draws each label as its own ``Text`` instead (the benchmarks' naive baseline)."""

from __future__ import annotations

import contextlib
import functools
import textwrap

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.ft2font import LoadFlags
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.textpath import TextPath
from matplotlib.transforms import IdentityTransform

from cnn_lessons.drawing.style import COLORS

__all__ = [
    "glyph_path",
    "bulk_drawing",
    "naive_drawing",
    "GlyphLabels",
    "TextBatch",
    "each_row",
    "wrap",
    "axes_title",
    "text_width",
    "button_width",
]


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
False (only through :func:`naive_drawing`), they draw every label as its own ``Text`` and every cell as its own
``Polygon``, the way matplotlib code usually draws such pictures: the same picture, drawn naively
(``benchmarks/slider_latency.py``'s baseline). Read it through :func:`bulk_drawing`."""


def bulk_drawing() -> bool:
    """Whether the bulk artists draw in bulk now (:data:`BULK_DRAWING`, read when they draw)."""
    return BULK_DRAWING


@contextlib.contextmanager
def naive_drawing():
    """Inside this block every label is drawn as its own ``Text`` and every cell as its own ``Polygon``."""
    global BULK_DRAWING
    before, BULK_DRAWING = BULK_DRAWING, False
    try:
        yield
    finally:
        BULK_DRAWING = before


def each_row(values, count: int) -> list:
    """``values`` for ``count`` items: repeated when there is one (or none: "none"), else as given."""
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
        if bulk_drawing() or not self.get_visible():
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


@functools.lru_cache(maxsize=512)
def _wrapped(text: str, width: int) -> tuple[str, ...]:
    return tuple(textwrap.wrap(text, width)) if text else ()


def wrap(text: str, width: int) -> list[str]:
    """``text`` wrapped to lines of at most ``width`` characters (cached: the same notes come back often)."""
    return list(_wrapped(text, width))


def axes_title(ax: Axes, text: str, fontsize: float, room: float) -> Text:
    """A title above ``ax`` drawn by a :class:`TextBatch` (``room``: inches above the axes)."""
    height = ax.get_position().height * ax.get_figure(root=True).get_size_inches()[1]
    words = TextBatch(ax, transform=ax.transAxes)
    return words.text(0.5, 1 + min(0.09, room / 2) / height, text, ha="center", va="baseline", fontsize=fontsize)


WIDE_SANS = "DejaVu Sans"
"""The font :func:`text_width` measures with: among the widest sans-serif faces, and the one a Linux browser
usually gives ``system-ui`` (macOS's and Windows' system faces set the same text narrower)."""


@functools.lru_cache(maxsize=256)
def text_width(text: str, font_px: float = 13.0, family: str = WIDE_SANS) -> float:
    """The width in pixels of ``text`` on one line in ``family`` at ``font_px`` pixels (matplotlib's font metrics)."""
    font = get_font(findfont(FontProperties(family=family)))
    font.set_size(font_px, 72)  # at 72 dpi a point is a pixel
    font.set_text(text, 0.0, flags=LoadFlags.NO_HINTING)
    return font.get_width_height()[0] / 64  # FreeType's 26.6 fixed point


def button_width(labels, *, font_px: float = 13.0, padding_px: float = 20.0, slack_px: float = 6.0) -> str:
    """A CSS width (``"74px"``) for buttons that show the widest of ``labels`` whole, for ipywidgets'
    ``ToggleButtons(style={"button_width": ...})``: the text's width (:func:`text_width`, JupyterLab's 13 px
    widget font), the button's padding (10 px each side in ipywidgets' stylesheet) and some slack."""
    labels = [str(label) for label in labels]
    if not labels:
        raise ValueError("button_width needs at least one label, got none")
    widest = max(text_width(label, font_px) for label in labels)
    return f"{int(np.ceil(widest + padding_px + slack_px))}px"
