"""The receptive-field explorer (lesson 02): which input cells feed one output of a stack of layers.

Picture: :func:`receptive_field_picture`; view: :class:`ReceptiveFieldView`; controls:
:class:`ReceptiveFieldExplorer`."""

from __future__ import annotations

import dataclasses

import ipywidgets as widgets
import matplotlib
import matplotlib.colors as mcolors
import matplotlib.figure
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from cnn_lessons.arithmetic import (
    check_int,
    conv_output_size,
    receptive_field,
)
from cnn_lessons.drawing.cells import cell_collection, cell_squares, outline_collection
from cnn_lessons.drawing.style import COLORS, MINUS, TIMES
from cnn_lessons.drawing.text import GlyphLabels, TextBatch, wrap
from cnn_lessons.explorers._base import Explorer, slider
from cnn_lessons.explorers.conv_arithmetic import ARITHMETIC_COLORS

__all__ = [
    "RFPicture",
    "receptive_field_formula",
    "receptive_field_picture",
    "RF_COLORS",
    "ReceptiveFieldView",
    "ReceptiveFieldExplorer",
]


@dataclasses.dataclass(frozen=True, kw_only=True)
class RFPicture:
    """What the receptive-field explorer shows for a stack of valid (unpadded) layers over a 1-D input.

    ``sizes[0]`` is the input length, ``sizes[l]`` layer l's output length (as many as fit: when layer m does not
    fit, ``problem`` says why and ``sizes`` stops at m - 1). ``fields[l]`` / ``jumps[l]``: the receptive field of
    one cell of layer l in input cells, and how many input cells apart its neighbours' fields start.
    ``influence[l]``: the cells of layer l that feed the chosen output (sorted; empty without an output),
    ``edges``: (layer, cell, cell in the layer below) for every tap between them.
    """

    layers: tuple[tuple[int, int, int], ...]
    sizes: tuple[int, ...]
    fields: tuple[int, ...]
    jumps: tuple[int, ...]
    field: int
    problem: str | None = None
    position: int = 0
    influence: tuple[tuple[int, ...], ...] = ()
    edges: tuple[tuple[int, int, int], ...] = ()
    formula: str

    @property
    def last_position(self) -> int:
        """The last layer's last cell (0 when the stack does not fit): a position slider's maximum."""
        return 0 if self.problem is not None else self.sizes[-1] - 1


def receptive_field_formula(layers) -> str:
    """r = 1 + Σ d_l (k_l − 1) Π_{m<l} s_m written out on two lines, the numbers on the second, e.g.
    ``r = 1 + Σ d_l(k_l−1)·Π_(m<l) s_m`` and ``  = 1 + 1·(3−1)·1 + 1·(3−1)·1 + 1·(3−1)·2 = 1 + 2 + 2 + 4 = 9``.
    """
    layers = [tuple(layer) + (1,) * (3 - len(layer)) for layer in layers]
    general = f"r = 1 + \u03a3 d_l(k_l{MINUS}1){TIMES}\u03a0_(m<l) s_m"
    if not layers:
        return f"{general} = 1"
    jump, filled, terms = 1, [], []
    for kernel_size, stride, dilation in layers:
        filled.append(f"{dilation}{TIMES}({kernel_size}{MINUS}1){TIMES}{jump}")
        terms.append(dilation * (kernel_size - 1) * jump)
        jump *= stride
    total = receptive_field(layers)
    assert 1 + sum(terms) == total
    sums = " + ".join(str(t) for t in terms)
    middle = f" = 1 + {sums}" if len(terms) > 1 else ""
    return f"{general}\n  = 1 + {' + '.join(filled)}{middle} = {total}"


def _layer_triples(layers) -> tuple[tuple[int, int, int], ...]:
    """``layers`` as checked ``(kernel_size, stride, dilation)`` triples (dilation 1 where a layer gives two)."""
    example = "for example [(3, 1, 1), (3, 2, 1)]"
    if not isinstance(layers, (list, tuple)):
        raise TypeError(
            f"layers must be a list of (kernel_size, stride) or (kernel_size, stride, dilation) tuples, {example}; "
            f"got {layers!r} ({type(layers).__name__})"
        )
    triples = []
    for n, layer in enumerate(layers, 1):
        if not isinstance(layer, (list, tuple)) or len(layer) not in (2, 3):
            raise TypeError(
                f"layer {n} must be (kernel_size, stride) or (kernel_size, stride, dilation), {example}; got {layer!r}"
            )
        kernel_size, stride, dilation = (*layer, 1)[:3]
        triples.append(
            (
                check_int(f"kernel_size of layer {n}", kernel_size),
                check_int(f"stride of layer {n}", stride),
                check_int(f"dilation of layer {n}", dilation),
            )
        )
    return tuple(triples)


def receptive_field_picture(layers, input_size: int, position: int = 0) -> RFPicture:
    """The receptive field of one output of a stack of unpadded 1-D layers ``(kernel, stride, dilation)``.

    ``position``: the cell of the last layer whose inputs are traced (held at the last cell when past the end).
    Cell i of layer l reads cells i*s_l + j*d_l (j < k_l) of the layer below; following those taps down from the
    chosen cell gives ``influence``, whose extent on the input is the receptive field
    (:func:`cnn_lessons.arithmetic.receptive_field`). With dilation the field can have holes: cells inside it
    that feed nothing.
    """
    # long: walks the stack forward (sizes, fields) then backward (the cells that feed the output)
    layers = _layer_triples(layers)
    input_size = check_int("input_size", input_size)
    fields = tuple(receptive_field(layers[:n]) for n in range(len(layers) + 1))
    jumps = [1]
    for _, stride, _ in layers:
        jumps.append(jumps[-1] * stride)
    sizes, problem = [input_size], None
    for n, (kernel_size, stride, dilation) in enumerate(layers):
        try:
            sizes.append(conv_output_size(sizes[-1], kernel_size, stride, 0, dilation))
        except ValueError as error:
            below = "the input" if n == 0 else f"layer {n}"
            problem = f"layer {n + 1} does not fit on {below} ({sizes[-1]} cells): {error}"
            break
    stack = dict(layers=layers, sizes=tuple(sizes), fields=fields, jumps=tuple(jumps), field=fields[-1])
    formula = receptive_field_formula(layers)
    if problem is not None:
        return RFPicture(**stack, problem=problem, formula=formula)
    position = min(check_int("position", position, minimum=0), sizes[-1] - 1)
    influence = [[position]]
    edges = []
    for n in range(len(layers), 0, -1):  # layer n reads the layer below it, n - 1
        kernel_size, stride, dilation = layers[n - 1]
        below = set()
        for i in influence[0]:
            for j in range(kernel_size):
                below.add(i * stride + j * dilation)
                edges.append((n, i, i * stride + j * dilation))
        influence.insert(0, sorted(below))
    assert influence[0][-1] - influence[0][0] + 1 == fields[-1]
    influence = tuple(tuple(cells) for cells in influence)
    return RFPicture(**stack, position=position, influence=influence, edges=tuple(edges), formula=formula)


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

    :meth:`update` takes a :class:`RFPicture`; only existing artists change.
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
        self.cells = cell_collection(self.ax)
        self.chosen = outline_collection(self.ax, linewidth=2.0)
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
        """Draw :class:`RFPicture` ``picture`` with the existing artists."""
        # long: places every artist for the new stack in one pass, row by row, in drawing order
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
                cell_squares(1, size)
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
        lines = wrap(picture.problem or "", 96)[: len(self.problem)]
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


class ReceptiveFieldExplorer(Explorer):
    """How far one output of a stack of 1-D layers sees: its receptive field, layer by layer.

    Controls: ``layers`` (how many, 1..4), per layer ``kernels[l]`` (1..5), ``strides[l]`` (1..3) and
    ``dilations[l]`` (1..3), ``input_size`` (1..40) and ``position`` (the last layer's cell whose inputs are
    traced; its maximum follows that layer's size). The rows of the layers not in use stay in place, their
    sliders disabled, so the figure below does not jump when the number of layers changes. The layers have no
    padding, so each output is shorter; a layer that does not fit is explained in the figure. The receptive
    field is :func:`cnn_lessons.arithmetic.receptive_field`; the cells that feed the chosen output come from
    :func:`receptive_field_picture`.
    """

    MAX_LAYERS = 4

    def __init__(self, layers=((3, 1, 1), (3, 2, 1), (3, 1, 2)), *, input_size: int = 24, position: int = 3):
        layers = [tuple(layer) + (1,) * (3 - len(layer)) for layer in layers]
        if not 1 <= len(layers) <= self.MAX_LAYERS:
            raise ValueError(f"give 1 to {self.MAX_LAYERS} layers, got {len(layers)}")
        padded = layers + [(3, 1, 1)] * (self.MAX_LAYERS - len(layers))
        self.layers = slider("layers", len(layers), 1, self.MAX_LAYERS, width="230px")
        self.input_size = slider("input size", input_size, 1, 40, width="300px")
        self.position = slider("output cell", position, 0, position, width="300px")  # update() sets the maximum
        short = {"description_width": "52px"}
        self.kernels = [
            widgets.IntSlider(value=k, min=1, max=5, description="kernel", style=short) for k, _, _ in padded
        ]
        self.strides = [
            widgets.IntSlider(value=s, min=1, max=3, description="stride", style=short) for _, s, _ in padded
        ]
        self.dilations = [
            widgets.IntSlider(value=d, min=1, max=3, description="dilation", style=short) for _, _, d in padded
        ]
        for control in (*self.kernels, *self.strides, *self.dilations):
            control.layout = widgets.Layout(width="220px")
        self.rows = [
            widgets.HBox([widgets.Label(f"layer {n + 1}", layout=widgets.Layout(width="52px")), k, s, d])
            for n, (k, s, d) in enumerate(zip(self.kernels, self.strides, self.dilations, strict=True))
        ]
        fig = matplotlib.figure.Figure(dpi=100)
        self.view = ReceptiveFieldView(fig, max_layers=self.MAX_LAYERS)
        self._show(fig, widgets.HBox([self.layers, self.input_size, self.position]), *self.rows)
        self.update()
        self._watch(self.controls())

    def controls(self) -> list[widgets.IntSlider]:
        """Every slider: the stack's size, input size, position, then each layer's kernel, stride, dilation."""
        return [self.layers, self.input_size, self.position, *self.kernels, *self.strides, *self.dilations]

    def stack(self) -> list[tuple[int, int, int]]:
        """The (kernel, stride, dilation) of the layers in use, first layer first."""
        return [
            (self.kernels[n].value, self.strides[n].value, self.dilations[n].value) for n in range(self.layers.value)
        ]

    def picture(self) -> RFPicture:
        """What the controls' values give (:func:`receptive_field_picture`)."""
        return receptive_field_picture(self.stack(), self.input_size.value, self.position.value)

    def update(self) -> None:
        """Enable the rows in use, recompute the picture, update the figure in place, ask for one redraw."""
        with self._updating:
            for n, controls in enumerate(zip(self.kernels, self.strides, self.dilations, strict=True)):
                for control in controls:  # (traitlets sends nothing when the value stays the same)
                    control.disabled = n >= self.layers.value
            self.current = picture = self.picture()
            with self.position.hold_sync():
                self.position.max = picture.last_position
                self.position.value = picture.position
                self.position.disabled = picture.problem is not None
            self.view.update(picture)
        self._redraw()

    def static_figure(self) -> matplotlib.figure.Figure:
        fig = matplotlib.figure.Figure(dpi=100)
        ReceptiveFieldView(fig, max_layers=self.MAX_LAYERS).update(self.picture())
        return fig

    def benchmark_steps(self):
        return [
            *[(self.position, p) for p in range(6)],
            (self.kernels[0], 5),
            (self.dilations[2], 3),
            (self.strides[1], 1),
            (self.layers, 4),
            (self.kernels[3], 2),
            (self.input_size, 40),
            *[(self.position, p) for p in range(0, 20, 3)],
            (self.layers, 3),
            (self.kernels[0], 3),
            (self.dilations[2], 2),
            (self.strides[1], 2),
            (self.input_size, 24),
        ]

    def _widgets(self):
        yield from (*self.controls(), *self.rows, self.canvas, self.canvas.toolbar)

    def __repr__(self) -> str:
        return (
            f"ReceptiveFieldExplorer(layers={self.stack()}, input_size={self.input_size.value}, "
            f"position={self.position.value})"
        )
