"""The classroom's parts that need no hub: pins, the config's refusals, how a run's errors are judged."""

from __future__ import annotations

import os
import runpy
from pathlib import Path

import pytest
from hub_harness import CONFIG, CellRun, unexpected_errors, unwritten_exercises

ROOT = Path(__file__).resolve().parents[2]


def _pins(path: Path) -> dict[str, str]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return {name.strip().lower(): version.strip() for name, version in (p.split("==") for p in lines if "==" in p)}


def test_classroom_pins_agree_with_the_constraints():
    pins, constraints = _pins(ROOT / "requirements/classroom.txt"), _pins(ROOT / "requirements/constraints.txt")
    assert set(pins) == {"jupyterhub", "nbgitpuller"}
    assert {name: constraints.get(name) for name in pins} == pins


@pytest.mark.parametrize("password", ["", "short"])
def test_the_hub_config_refuses_to_start_without_a_real_password(monkeypatch, password):
    for name in [name for name in os.environ if name.startswith("CNN_LESSONS_HUB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CNN_LESSONS_HUB_PASSWORD", password)
    with pytest.raises(SystemExit, match=r"set CNN_LESSONS_HUB_PASSWORD .*\(8 characters or more\)"):
        runpy.run_path(str(CONFIG), init_globals={"c": None})  # as JupyterHub loads it; `c` is never reached


def test_only_an_exercise_saying_not_written_yet_is_an_expected_error():
    runs = [
        CellRun(1, set(), [], 0.1),
        CellRun(2, {"exercise"}, ["ExerciseFailed: not written yet: fill in conv_output_size"], 0.1),
        CellRun(3, {"exercise"}, ["NameError: name 'answer' is not defined"], 0.1),
        CellRun(4, set(), ["ValueError: not written yet"], 0.1),
        CellRun(5, set(), ["stderr: Traceback (most recent call last)"], 0.1),
    ]
    assert unexpected_errors(runs) == [
        "cell 3: NameError: name 'answer' is not defined",
        "cell 4: ValueError: not written yet",
        "cell 5: stderr: Traceback (most recent call last)",
    ]
    assert unwritten_exercises(runs) == 1
