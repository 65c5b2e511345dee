"""A class re-runs cells: 100 re-runs of an explorer's cell grow the kernel by at most 20 MB (``make test-classroom``).

Each re-run closes what the cell's last run made (tests/test_reruns.py checks that); here the process's resident
memory is measured around 100 runs of one cell, after a warm-up.
"""

from __future__ import annotations

import gc
import itertools

import psutil
import pytest

from cnn_lessons import explorers
from cnn_lessons.explorers import _base


@pytest.mark.parametrize("cls", [explorers.ConvArithmeticExplorer, explorers.KernelPicker], ids=lambda c: c.__name__)
def test_a_hundred_reruns_grow_the_kernel_by_at_most_20_mb(cls, monkeypatch):
    """The issue measured 1.4 MB (ConvArithmeticExplorer) to 3.5 MB (KernelPicker) per explorer left open."""
    requests, current = itertools.count(), {}
    monkeypatch.setattr(_base, "running_cell", lambda: current.get("run"))  # a front-end naming cell "x" and its run
    monkeypatch.setattr(_base, "_BY_CELL", {})

    def cell(name: str) -> None:
        current["run"] = (name, f"request-{next(requests)}")

    process = psutil.Process()
    for _ in range(25):  # warm-up: imports, caches, the allocator's arenas (RSS levels off after about 20 runs)
        cell("x")
        cls.example()
    gc.collect()
    before = process.memory_info().rss
    for _ in range(100):
        cell("x")
        cls.example()
    gc.collect()
    grown = (process.memory_info().rss - before) / 2**20
    assert grown <= 20, f"100 re-runs of a {cls.__name__} cell grew the process by {grown:.1f} MB"
