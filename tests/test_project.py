"""The project's own files: pins agree everywhere, and every notebook is stored ready for strict nbval."""

import difflib
import json
import re
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def test_torch_is_pinned_exactly():
    assert _pins(ROOT / "requirements/lab.txt")["torch"] == "2.13.0"
    assert "torch>=" not in (ROOT / "requirements/lab.txt").read_text()


def test_requirement_pins_agree_with_the_constraints():
    constraints = _pins(ROOT / "requirements/constraints.txt")
    files = sorted(p.name for p in (ROOT / "requirements").glob("*.txt") if p.name != "constraints.txt")
    assert {"lab.txt", "test.txt", "grading.txt", "classroom.txt"} <= set(files)
    for file in files:
        for name, version in _pins(ROOT / "requirements" / file).items():
            assert constraints.get(name) == version, (
                f"{file} pins {name}=={version}, constraints say {constraints.get(name)}"
            )


def test_environment_yml_installs_the_same_pins():
    text = (ROOT / "environment.yml").read_text()
    pip_lines = re.findall(r"^\s+- ([A-Za-z0-9_.-]+==\S+)\s*$", text, flags=re.M)
    conda_pins = {line.split("==")[0].lower(): line.split("==")[1] for line in pip_lines}
    assert conda_pins == _pins(ROOT / "requirements/lab.txt")
    assert re.search(r"^\s+- python=3\.11\s*$", text, flags=re.M)
    assert "conda-forge" in text and re.search(r"^\s+- -e \.\s*$", text, flags=re.M)


def test_there_are_lessons():
    assert [p.name for p in NOTEBOOKS][:1] == ["01-correlation-vs-convolution.ipynb"]
    scripts = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9]*.py"))
    assert scripts == [p.stem for p in NOTEBOOKS], "every lesson script has its notebook and every notebook its script"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_executed(path):
    """Strict nbval compares stored outputs: a code cell stored without a run would compare nothing."""
    cells = json.loads(path.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    unrun = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and c.get("execution_count") is None]
    assert code and not unrun, f"{path.name}: code cells {unrun} have no stored execution; run `make notebooks`"
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{path.name}: not executed top to bottom in one run"
    errors = [i for i, c in enumerate(cells) for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, f"{path.name}: cells {errors} store an error"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_ignored_outputs_say_why(path):
    """`# NBVAL_IGNORE_OUTPUT` must be alone on its line and followed by a one-line reason comment."""
    for index, cell in enumerate(json.loads(path.read_text())["cells"]):
        lines = "".join(cell["source"]).splitlines()
        for n, line in enumerate(lines):
            if "NBVAL_IGNORE_OUTPUT" in line:
                assert line.strip() == "# NBVAL_IGNORE_OUTPUT", f"{path.name} cell {index}: marker not alone"
                reason = lines[n + 1].strip() if n + 1 < len(lines) else ""
                assert reason.startswith("#") and len(reason) > 10, f"{path.name} cell {index}: no reason given"
            for marker in ("NBVAL_SKIP", "NBVAL_CHECK_OUTPUT", "NBVAL_RAISES_EXCEPTION"):
                assert marker not in line, f"{path.name} cell {index}: {marker} hides a cell from the test"


def _without_version(text: str) -> str:
    return re.sub(r"(?m)^#\s+jupytext_version: .*\n", "", text)


def pair_difference(notebook: Path, script: Path) -> str:
    """'' when ``script`` is exactly the jupytext percent script of ``notebook``'s cells, else a unified diff.

    The header line naming jupytext's version is left out: another jupytext writes the same cells."""
    expected = _without_version(jupytext.writes(jupytext.read(notebook), fmt="py:percent"))
    actual = _without_version(script.read_text() if script.exists() else "")
    return "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), "notebook", "script"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_agrees_with_its_script(path):
    """Each lesson's source is notebooks/NN-name.py (what a teacher edits and reviews); the notebook must match it."""
    difference = pair_difference(path, path.with_suffix(".py"))
    assert not difference, f"{path.name} and its script differ; run `make notebooks`:\n{difference[:2000]}"


def test_a_planted_mismatch_is_caught(tmp_path):
    notebook = json.loads(NOTEBOOKS[0].read_text())
    markdown = next(cell for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    markdown["source"] = "".join(markdown["source"]).replace("correlation", "corelation", 1)
    planted = tmp_path / NOTEBOOKS[0].name
    planted.write_text(json.dumps(notebook))
    difference = pair_difference(planted, NOTEBOOKS[0].with_suffix(".py"))
    assert any(line.startswith("-") and "corelation" in line for line in difference.splitlines())
    assert pair_difference(planted, tmp_path / "missing.py")  # no script at all is a difference too


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_execution_timestamps_are_stored(path):
    cells = json.loads(path.read_text())["cells"]
    timed = [i for i, cell in enumerate(cells) if "execution" in cell["metadata"]]
    assert not timed, f"{path.name}: cells {timed} store execution timestamps; `make notebooks` records none"


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _widget_views(path: Path) -> list[tuple[int, dict]]:
    """(cell index, output data) of every stored output that shows a widget."""
    cells = json.loads(path.read_text())["cells"]
    return [
        (i, o["data"]) for i, c in enumerate(cells) for o in c.get("outputs", []) if WIDGET_VIEW in o.get("data", {})
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_stored_widget_view_has_its_picture_beside_it(path):
    """GitHub, nbviewer and HTML exports have no live widgets: they show the PNG stored in the same output."""
    assert "widgets" not in json.loads(path.read_text())["metadata"], (
        f"{path.name} stores widget state: HTML exports would show the (dead) widget instead of its picture; "
        "`make notebooks` stores none"
    )
    blind = [i for i, data in _widget_views(path) if not data.get("image/png")]
    assert not blind, f"{path.name}: cells {blind} store a widget view with no PNG beside it; run `make notebooks`"


def test_the_stored_picture_check_sees_a_bare_widget(tmp_path):
    notebook = json.loads(NOTEBOOKS[0].read_text())
    cell, data = next((i, d) for i, d in _widget_views(NOTEBOOKS[0]))
    assert data["image/png"]
    output = next(o for o in notebook["cells"][cell]["outputs"] if WIDGET_VIEW in o.get("data", {}))
    del output["data"]["image/png"]
    bare = tmp_path / NOTEBOOKS[0].name
    bare.write_text(json.dumps(notebook))
    with pytest.raises(AssertionError, match=rf"cells \[{cell}\] store a widget view with no PNG"):
        test_every_stored_widget_view_has_its_picture_beside_it(bare)
