"""Shared checks for the explorer widgets: nothing new is drawn, the existing artists are updated in place."""

from __future__ import annotations

import matplotlib.figure


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
