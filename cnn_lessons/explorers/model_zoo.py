"""The model explorer (lesson 04): pick an architecture and an input size; see its parameters per stage, each
stage's output shape, the multiply-adds and how much of the image one output can see.

Picture: :func:`model_picture` (from :func:`cnn_lessons.models.model_facts` and
:func:`cnn_lessons.models.facts_at`); view: :class:`StageParameterView`; controls: :class:`ModelExplorer`."""

from __future__ import annotations

import dataclasses
import html

import ipywidgets as widgets
import matplotlib
import matplotlib.figure
import matplotlib.transforms
from matplotlib.figure import Figure

from cnn_lessons import arithmetic, models
from cnn_lessons.drawing.style import COLORS, format_count
from cnn_lessons.drawing.text import TextBatch
from cnn_lessons.explorers._base import Explorer, slider

__all__ = [
    "SIZE_RANGE",
    "ModelPicture",
    "model_picture",
    "shape_label",
    "header_text",
    "StageParameterView",
    "ModelExplorer",
]

SIZE_RANGE = (32, 512)
"""The input sizes (square, in pixels) the explorer's size slider offers."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelPicture:
    """What the model explorer shows for one model at one input size (see :func:`model_picture`)."""

    name: str
    parameters: int
    stages: dict[str, int]
    stage_shapes: dict[str, tuple[int, ...] | None]
    input_size: tuple[int, int, int]
    multiply_adds: int | None
    default_size: tuple[int, int, int]
    default_multiply_adds: int
    receptive_field: int
    problem: str | None
    summary: str


def model_picture(name: str, size: int) -> ModelPicture:
    """Model ``name`` on a ``size`` x ``size`` input: its facts at its default size and at this one."""
    facts, here = models.model_facts(name), models.facts_at(name, size)
    return ModelPicture(
        name=name,
        parameters=facts.parameters,
        stages=facts.stages,
        stage_shapes=here.stage_shapes,
        input_size=here.input_size,
        multiply_adds=here.multiply_adds,
        default_size=facts.input_size,
        default_multiply_adds=facts.multiply_adds,
        receptive_field=facts.receptive_field,
        problem=here.problem,
        summary=facts.summary,
    )


def shape_label(shape: tuple[int, ...] | None) -> str:
    """A stage's output shape as the chart writes it: ``256×56²`` (channels × side²), ``1000``, or ``—``."""
    if shape is None:
        return "\u2014"
    if len(shape) == 3 and shape[1] == shape[2]:
        return f"{shape[0]}\u00d7{shape[1]}\u00b2"
    return "\u00d7".join(str(n) for n in shape)


def header_text(picture: ModelPicture) -> str:
    """The line above the chart (HTML): parameters, then what this input size costs and what one output sees."""
    channels, side, _ = picture.input_size
    text = f"<b>{picture.name}</b>: {picture.parameters:,} parameters"
    if picture.problem is not None:
        return f"{text}. <span style='color: #b30000'>{html.escape(picture.problem)}</span>"
    ratio = picture.multiply_adds / picture.default_multiply_adds
    default = picture.default_size[1]
    field = picture.receptive_field
    sees = (
        "at least as wide as the image: the central positions of the last feature map see all of it"
        if field >= side
        else f"each position of the last feature map sees a {field}\u00d7{field} patch of the image at most"
    )
    macs = picture.multiply_adds
    cost = f"{macs / 1e9:.2f} G" if macs >= 1e8 else f"{macs / 1e6:.2f} M"
    return (
        f"{text}; one {channels}\u00d7{side}\u00d7{side} input: {cost} multiply-adds "
        f"({ratio:.2f}\u00d7 those at {default}\u00d7{default}); receptive field {field} px: {sees}"
    )


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

    def update(self, counts: dict, name: str = "", shapes: dict | None = None, input_size: tuple = ()) -> None:
        """Show ``counts`` (stage name -> parameters, e.g. ``models.stage_parameter_counts(model)``) and, with
        ``shapes`` (stage name -> output shape or None), each stage's output shape under its count, for one
        input of ``input_size`` (named in the title)."""
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
            value_text.set_text(format_count(value) + ("" if shapes is None else "\n" + shape_label(shapes.get(stage))))
        self.ax.set_xlim(-0.6, max(len(items), 1) - 0.4)
        top = max((value for _, value in items), default=0)
        self.ax.set_ylim(0, (top if top else 1) * (1.15 if shapes is None else 1.3))
        at = " at " + "\u00d7".join(map(str, input_size)) if input_size else ""
        if items and total:
            share = 100 * items[largest][1] / total
            self.title.set_text(
                f"{name}{at}: {total:,} parameters by stage; the largest, {items[largest][0]}, holds {share:.0f}%"
            )
        else:
            self.title.set_text(f"{name}{at}: no parameters")

    def shown(self) -> dict[str, int]:
        """What the chart shows now, read back from the artists: stage name -> bar height."""
        return {
            label.get_text(): int(round(bar.get_height()))
            for bar, label in zip(self.bars, self.names, strict=True)
            if bar.get_visible()
        }


class ModelExplorer(Explorer):
    """Pick one of the lesson's models and an input size: parameters and output shape per stage, the cost.

    Controls: ``model`` (Dropdown over ``cnn_lessons.models.MODELS``) and ``size`` (IntSlider, the side of a
    square input, :data:`SIZE_RANGE`; a new model starts at its own default size). ``header`` (HTML) gives the
    totals at this size, or says why the model refuses it; ``summary`` (HTML, a ``<pre>`` block) is torchinfo's
    table at the default size; the canvas shows :class:`StageParameterView`, updated in place. The numbers
    come from :func:`model_picture`: after a model's first use, a new size is pure integer arithmetic.
    """

    MAX_STAGES = 16

    def __init__(self, model: str = "resnet18", size: int | None = None):
        names = list(models.MODELS)
        if model not in names:
            raise ValueError(f"model must be one of {names}, got {model!r}")
        default = models.model_input_size(model)[1]
        size = default if size is None else arithmetic.check_int("size", size)
        if not SIZE_RANGE[0] <= size <= SIZE_RANGE[1]:
            raise ValueError(f"size must be between {SIZE_RANGE[0]} and {SIZE_RANGE[1]} pixels, got {size}")
        self.model = widgets.Dropdown(options=names, value=model, description="model")
        self.size = slider("input size", size, *SIZE_RANGE, width="330px")
        self.header = widgets.HTML(layout=widgets.Layout(margin="0 0 0 10px"))
        self.summary = widgets.HTML(layout=widgets.Layout(max_height="420px", overflow="auto"))
        fig = matplotlib.figure.Figure(figsize=(8, 3.6), dpi=100)
        self.view = StageParameterView(fig, max_stages=self.MAX_STAGES)
        self._shown_model, self._summary_of = model, None
        self._show(
            fig,
            widgets.HBox([self.model, self.size]),
            self.header,
            below=[self.summary],
            toolbar_visible="fade-in-fade-out",
        )
        self.update()
        self._watch([self.model, self.size])

    def picture(self) -> ModelPicture:
        """What the controls' values give (:func:`model_picture`)."""
        return model_picture(self.model.value, self.size.value)

    @property
    def facts(self) -> models.ModelFacts:
        """The facts of the model shown now, at its default input size."""
        return models.model_facts(self.model.value)

    def update(self) -> None:
        """Show the chosen model at the chosen size; the bars and labels change in place."""
        if self.model.value != self._shown_model:  # a new model starts at the size it is usually shown at
            self._shown_model = self.model.value
            self.size.value = models.model_input_size(self.model.value)[1]
        picture = self.picture()
        self.header.value = header_text(picture)
        self.view.update(picture.stages, picture.name, picture.stage_shapes, picture.input_size)
        channels, side, _ = picture.default_size
        if self._summary_of != picture.name:  # the summary is per model: a size step does not re-send it
            self._summary_of = picture.name
            self.summary.value = (
                f"<div>torchinfo's summary for one {channels}\u00d7{side}\u00d7{side} input</div>"
                f"<pre style='font-size: 11px; line-height: 1.25'>{html.escape(picture.summary)}</pre>"
            )
        self._redraw()

    def static_figure(self) -> matplotlib.figure.Figure:
        fig = matplotlib.figure.Figure(figsize=(8, 3.6), dpi=100)
        picture = self.picture()
        view = StageParameterView(fig, max_stages=self.MAX_STAGES)
        view.update(picture.stages, picture.name, picture.stage_shapes, picture.input_size)
        return fig

    def benchmark_steps(self):
        sizes = [(self.size, side) for side in (*range(200, 260, 4), 224)]
        return [*sizes, *((self.model, name) for name in models.MODELS), (self.model, "resnet18")]

    def _widgets(self):
        yield from (self.model, self.size, self.header, self.summary, self.canvas, self.canvas.toolbar)

    def __repr__(self) -> str:
        return f"ModelExplorer(model={self.model.value!r}, size={self.size.value})"
