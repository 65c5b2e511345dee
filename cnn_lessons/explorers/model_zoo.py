"""The model explorer (lesson 04): pick an architecture, see its parameters per stage and its summary.

Picture: :func:`cnn_lessons.models.model_facts`; view: :class:`StageParameterView`; controls:
:class:`ModelExplorer`."""

from __future__ import annotations

import html

import ipywidgets as widgets
import matplotlib
import matplotlib.figure
import matplotlib.transforms
from matplotlib.figure import Figure

from cnn_lessons import models
from cnn_lessons.drawing.style import COLORS, format_count
from cnn_lessons.drawing.text import TextBatch
from cnn_lessons.explorers._base import Explorer
from cnn_lessons.models import ModelFacts, model_facts

__all__ = [
    "StageParameterView",
    "ModelExplorer",
]


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


class ModelExplorer(Explorer):
    """Pick one of the lesson's models: its parameters per stage as bars, and its ``torchinfo`` summary.

    Controls: ``model`` (Dropdown over ``cnn_lessons.models.MODELS``). ``header`` (HTML) gives the totals,
    ``summary`` (HTML, a ``<pre>`` block) the torchinfo table, and the canvas shows
    :class:`StageParameterView`, updated in place. Models are built on the meta device and
    their facts cached (:func:`model_facts`), so switching is quick after each model's first time.
    """

    MAX_STAGES = 16

    def __init__(self, model: str = "resnet18"):
        names = list(models.MODELS)
        if model not in names:
            raise ValueError(f"model must be one of {names}, got {model!r}")
        self.model = widgets.Dropdown(options=names, value=model, description="model")
        self.header = widgets.HTML(layout=widgets.Layout(margin="0 0 0 10px"))
        self.summary = widgets.HTML(layout=widgets.Layout(max_height="420px", overflow="auto"))
        fig = matplotlib.figure.Figure(figsize=(8, 3.4), dpi=100)
        self.view = StageParameterView(fig, max_stages=self.MAX_STAGES)
        self._show(
            fig, widgets.HBox([self.model, self.header]), below=[self.summary], toolbar_visible="fade-in-fade-out"
        )

        self.update()
        self._watch([self.model])

    @property
    def facts(self) -> ModelFacts:
        """The facts of the model shown now."""
        return model_facts(self.model.value)

    def update(self) -> None:
        """Show the chosen model's facts; the bars and labels change in place."""
        facts = self.facts
        channels, height, width = facts.input_size
        self.header.value = (
            f"<b>{facts.name}</b>: {facts.parameters:,} parameters, "
            f"{facts.multiply_adds / 1e9:.2f} G multiply-adds for one {channels}\u00d7{height}\u00d7{width} input"
        )
        self.view.update(facts.stages, facts.name)
        self.summary.value = f"<pre style='font-size: 11px; line-height: 1.25'>{html.escape(facts.summary)}</pre>"
        self._redraw()

    def static_figure(self) -> matplotlib.figure.Figure:
        fig = matplotlib.figure.Figure(figsize=(8, 3.4), dpi=100)
        facts = self.facts
        StageParameterView(fig, max_stages=self.MAX_STAGES).update(facts.stages, facts.name)
        return fig

    def _widgets(self):
        yield from (self.model, self.header, self.summary, self.canvas, self.canvas.toolbar)

    def __repr__(self) -> str:
        return f"ModelExplorer(model={self.model.value!r})"
