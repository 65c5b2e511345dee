"""Shared checks for the explorer widgets (nothing new is drawn, the existing artists are updated in place), and
:class:`TinyExplorer`, an explorer defined outside the package that the benchmarks and frame tests must find."""

from __future__ import annotations

import dataclasses

import ipywidgets
import matplotlib.figure
import torch

from cnn_lessons import drawing, explorers, ops


def artists(fig):
    """Every artist in the figure, by identity, axes by axes."""
    return [(ax, tuple(ax.get_children())) for ax in fig.axes]


def watch_drawing(explorer, monkeypatch):
    """Record every Figure created and every redraw the explorer asks its canvas for.

    Returns ``(made, redraws)``: two lists that grow as the explorer is used.
    """
    made, redraws = [], []
    original_init = matplotlib.figure.Figure.__init__

    def counting_init(self, *args, **kwargs):
        made.append(self)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "__init__", counting_init)
    monkeypatch.setattr(explorer.canvas, "draw_idle", lambda: redraws.append(1))
    return made, redraws


# --- an explorer defined outside the package, exactly as CONTRIBUTING.md says to write one ---------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunningSum:
    """The picture as data: a signal and its running sums over a window of ``width``."""

    signal: tuple[int, ...]
    sums: tuple[int, ...]


def running_sum(width: int) -> RunningSum:
    """Pure: no matplotlib, no widgets."""
    signal = torch.arange(8.0)
    sums = ops.correlate1d(signal, torch.ones(width))
    return RunningSum(signal=tuple(int(v) for v in signal), sums=tuple(int(v) for v in sums))


class RunningSumView:
    """Two grids made once; :meth:`update` rewrites their numbers in place."""

    def __init__(self, fig):
        self.top, self.bottom = fig.subplots(2, 1)
        self.signal = drawing.draw_grid(self.top, torch.zeros(8))
        self.sums = drawing.draw_grid(self.bottom, torch.zeros(8))

    def update(self, picture: RunningSum) -> None:
        self.signal.set_values(torch.tensor(picture.signal))
        padded = torch.tensor(picture.sums + (0,) * (8 - len(picture.sums)))
        self.sums.set_values(padded)


class TinyExplorer(explorers.Explorer):
    """The smallest explorer: one slider, a picture as data, a view, and nothing of the engine touched."""

    def __init__(self, width: int = 2):
        self.width = ipywidgets.IntSlider(value=width, min=1, max=8, description="width")
        fig = matplotlib.figure.Figure(figsize=(4, 1.6), dpi=100)
        self.view = RunningSumView(fig)
        self._show(fig, self.width)
        self.update()
        self._watch([self.width])

    def update(self) -> None:
        self.view.update(running_sum(self.width.value))
        self._redraw()

    def static_figure(self):
        fig = matplotlib.figure.Figure(figsize=(4, 1.6), dpi=100)
        RunningSumView(fig).update(running_sum(self.width.value))
        return fig

    def _widgets(self):
        yield from (self.width, self.canvas, self.canvas.toolbar)

    def __repr__(self) -> str:
        return f"TinyExplorer(width={self.width.value})"
