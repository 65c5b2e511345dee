"""A class re-runs cells: a cell run again closes the explorers its last run made, so kernels stay small.

JupyterLab names the cell it runs (``cellId`` in the request's metadata); ``_base.running_cell`` reads it.
Here a fake front-end says which cell and which run each explorer is made in. The memory bound (100 re-runs)
is measured in tests/classroom/test_rerun_memory.py (``make test-classroom``: it takes a minute).
"""

from __future__ import annotations

import itertools

import pytest

from cnn_lessons import explorers
from cnn_lessons.explorers import _base

LESSON_EXPLORERS = [cls for cls in explorers.registered() if cls.__module__.startswith("cnn_lessons.")]
_requests = itertools.count()


@pytest.fixture
def cell(monkeypatch):
    """``cell(name)`` runs a cell: explorers made until the next call belong to that run of that cell."""
    current = {}
    monkeypatch.setattr(_base, "running_cell", lambda: current.get("run"))
    monkeypatch.setattr(_base, "_BY_CELL", {})

    def run(name: str) -> None:
        current["run"] = (name, f"request-{next(_requests)}")

    return run


def alive(explorer) -> bool:
    return explorer.box.comm is not None and explorer.canvas.comm is not None


@pytest.mark.parametrize("cls", LESSON_EXPLORERS, ids=lambda c: c.__name__)
def test_a_cell_run_again_closes_what_it_made_before(cls, cell):
    cell("a")
    first = cls.example()
    cell("b")
    other = cls.example()  # the same kind in another cell
    cell("a")
    again = cls.example()
    assert not alive(first), "the cell's first run made it; running the cell again must close it"
    assert alive(other) and alive(again)
    for explorer in (other, again):
        explorer.close()


def test_explorers_made_by_one_run_stay_together(cell):
    cell("a")
    one, two = explorers.ConvArithmeticExplorer(), explorers.ConvArithmeticExplorer()
    assert alive(one) and alive(two)
    cell("a")
    three = explorers.ConvArithmeticExplorer()
    assert not alive(one) and not alive(two) and alive(three)
    three.close()


def test_outside_jupyterlab_nothing_is_closed():
    assert _base.running_cell() is None  # no kernel here: explorers are closed by whoever made them
    one, two = explorers.ConvArithmeticExplorer(), explorers.ConvArithmeticExplorer()
    assert alive(one) and alive(two)
    one.close()
    two.close()
