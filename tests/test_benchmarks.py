"""The latency benchmarks measure every registered explorer, wherever it is defined (here: a test's own)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
from pathlib import Path

import matplotlib.text
from explorer_checks import TinyExplorer

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_slider_latency_measures_an_explorer_defined_in_a_test():
    slider_latency = load("slider_latency")
    assert TinyExplorer in slider_latency.explorer_classes()
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        assert slider_latency.main(["--steps", "3", "--baseline-steps", "2", "--only", "TinyExplorer"]) == 0
    summary = [line for line in printed.getvalue().splitlines() if line.startswith("slider_latency ")]
    assert len(summary) == 1 and "explorer=TinyExplorer" in summary[0] and "speedup=" in summary[0]


def test_the_baseline_draws_naively_and_the_explorers_in_bulk(monkeypatch):
    """The rebuild baseline draws each number as its own Text; the explorer's own figure draws none that way."""
    slider_latency = load("slider_latency")
    texts = []
    monkeypatch.setattr(matplotlib.text.Text, "draw", lambda self, renderer: texts.append(self.get_text()))
    explorer = TinyExplorer(width=3)
    slider_latency.baseline_step(explorer, naive=False)
    assert [text for text in texts if text] == []  # the grids' numbers are drawn in bulk
    slider_latency.baseline_step(explorer, naive=True)
    assert len([text for text in texts if text]) == 16  # two rows of eight numbers, one Text each
    explorer.close()


def test_browser_latency_builds_a_baseline_for_an_explorer_defined_in_a_test():
    """The cell the browser benchmark appends to a lesson finds every registered explorer in the kernel's Out."""
    code = "\n".join(line for line in load("browser_latency").BASELINE_CELL.splitlines() if not line.startswith("%"))
    shown = []
    namespace = {"Out": {1: TinyExplorer(width=3), 2: "not an explorer"}, "In": {1: "TinyExplorer(width=3)"}}
    namespace["TinyExplorer"] = TinyExplorer
    exec(code.replace("from IPython.display import display as _display", ""), {**namespace, "_display": shown.append})
    boxes = [item for item in shown if hasattr(item, "_dom_classes")]  # (the twin's first figure is shown too)
    assert [box._dom_classes for box in boxes] == [("cnn-lessons-baseline-TinyExplorer-1",)]
