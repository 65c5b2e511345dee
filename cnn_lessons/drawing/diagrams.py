"""Block diagrams of network modules, laid out from a spec (:class:`DiagramSpec`) and drawn once.

A spec lists nodes (layers, merges) by row and column and the edges between them; :func:`diagram_size` gives
the figure size it needs, :func:`draw_block_diagram` draws it. No model knowledge here: the specs of the
lessons' blocks are in :mod:`cnn_lessons.block_diagrams`."""

from __future__ import annotations

import dataclasses

import matplotlib
import matplotlib.font_manager
import matplotlib.patches
import matplotlib.path
import matplotlib.textpath
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch

from cnn_lessons.drawing.style import COLORS

__all__ = [
    "DIAGRAM_STYLES",
    "LAYER_KINDS",
    "DIAGRAM_X",
    "DiagramNode",
    "DiagramEdge",
    "DiagramSpec",
    "draw_block_diagram",
    "diagram_size",
    "BlockDiagram",
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


DIAGRAM_X = "\u00d7"


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
        # long: makes every artist of the diagram once (boxes, labels, edges, merges, frames), in drawing order
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
