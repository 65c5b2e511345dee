"""Slide marks from a lesson's structure (cnn_lessons.slides): the rules, the lessons' scripts and notebooks marked
together (the pair keeps agreeing, nothing else changes), and the mark-slides command."""

from __future__ import annotations

import json
from collections import Counter

import jupytext
import pytest

from cnn_lessons import slides
from cnn_lessons.cli import LESSONS_DIR, main


def md(text: str, **metadata) -> dict:
    return {"cell_type": "markdown", "source": text, "metadata": metadata}


def code(text: str, **metadata) -> dict:
    return {"cell_type": "code", "source": text, "metadata": metadata, "outputs": [], "execution_count": None}


def test_the_rules():
    cells = [
        md("# 02 · Padding\n\nWhat this lesson does."),
        code("import torch"),  # set-up, before the first section
        code("torch.manual_seed(0)"),
        md("## 1. The formula"),
        code("print(1)"),
        md("It printed one."),  # text after code: the next step
        md("More text."),
        code("print(2)"),
        code("print(3)"),
        md("### 1.1 A detail\n\nText."),
        md("Some text\n\n## 2. A section heading further down"),
        md("```python\n# not a heading\n```"),
        md("## Exercises"),
        code("answer = 1", tags=["solution"]),
        code("check(answer)", tags=["exercise"]),
        {"cell_type": "raw", "source": "raw", "metadata": {}},
    ]
    assert slides.slide_types(cells) == [
        "slide",
        "skip",
        "skip",
        "slide",
        "fragment",
        "subslide",
        "-",
        "fragment",
        "fragment",
        "subslide",
        "slide",
        "-",
        "slide",
        "notes",
        "fragment",
        "-",
    ]
    assert set(slides.slide_types(cells)) <= set(slides.SLIDE_TYPES)


def test_code_after_the_first_section_is_never_skipped():
    cells = [md("## 1. First"), code("import torch"), md("# A title later"), code("x = 1")]
    assert slides.slide_types(cells) == ["slide", "fragment", "slide", "fragment"]


def test_notebook_sources_as_lists_of_lines():
    assert slides.slide_types([md(["# Title\n", "text"]), code(["import os\n"])]) == ["slide", "skip"]


@pytest.fixture
def lessons(tmp_path):
    """A copy of every lesson (script and notebook) with its slide marks taken out, as a new lesson starts."""
    for path in sorted(LESSONS_DIR.glob("[0-9][0-9]-*")):
        if path.suffix in (".py", ".ipynb"):
            notebook = jupytext.read(path)
            for cell in notebook.cells:
                cell.metadata.pop("slideshow", None)
            jupytext.write(notebook, tmp_path / path.name, fmt="py:percent" if path.suffix == ".py" else "ipynb")
    return tmp_path


def test_marking_the_lessons_changes_only_marks_and_keeps_each_pair_agreeing(lessons):
    scripts = sorted(lessons.glob("*.py"))
    before = {path.name: path.read_text() for path in lessons.iterdir()}
    changed = slides.mark_lessons(lessons)
    assert slides.mark_lessons(lessons) == [], "marking twice changes nothing"
    assert slides.mark_lessons(lessons, check=True) == []
    for script in scripts:
        notebook = script.with_suffix(".ipynb")
        assert jupytext.writes(jupytext.read(notebook), fmt="py:percent") == script.read_text(), script.name
        old, new = json.loads(before[notebook.name]), json.loads(notebook.read_text())
        kinds = Counter(cell["metadata"].get("slideshow", {}).get("slide_type", "-") for cell in new["cells"])
        assert kinds["slide"] >= 3 and kinds["skip"] >= 1 and kinds["fragment"] >= 5, (notebook.name, kinds)
        for cell in old["cells"] + new["cells"]:
            cell["metadata"].pop("slideshow", None)
        assert old == new, f"{notebook.name}: only the slide marks change (outputs and sources stay)"
        unmarked = [line for line in script.read_text().splitlines() if not line.startswith("# %%")]
        assert unmarked == [line for line in before[script.name].splitlines() if not line.startswith("# %%")]
    assert {path.name for path in changed} <= set(before)


def test_check_finds_an_unmarked_lesson_and_writes_nothing(lessons):
    slides.mark_lessons(lessons)
    script = sorted(lessons.glob("*.py"))[0]
    script.write_text(
        script.read_text().replace('# %% [markdown] slideshow={"slide_type": "slide"}', "# %% [markdown]", 1)
    )
    text = script.read_text()
    assert slides.mark_lessons(lessons, check=True) == [script]
    assert script.read_text() == text


def test_the_command(lessons, capsys):
    assert main(["mark-slides", "--notebook-dir", str(lessons), "--check"]) in (0, 1)
    capsys.readouterr()
    assert main(["mark-slides", "--notebook-dir", str(lessons)]) == 0
    assert "marked" in capsys.readouterr().out
    assert main(["mark-slides", "--notebook-dir", str(lessons), "--check"]) == 0
    assert "every lesson carries its slide marks" in capsys.readouterr().out
    assert main(["mark-slides", "--notebook-dir", str(lessons / "none")]) == 2
    assert "no lessons" in capsys.readouterr().err


def test_mark_notebook_explains_what_is_not_a_notebook():
    with pytest.raises(ValueError, match="no list of cells"):
        slides.mark_notebook({"cells": "nope"})


def test_slides_names_the_lessons_when_none_matches(capsys):
    assert main(["slides", "/tmp/never-written", "--only", "99"]) == 2
    assert "the lessons are 01-correlation-vs-convolution" in capsys.readouterr().err


def test_marked_lessons_carry_the_marks_their_structure_gives():
    """Once the lessons carry slide marks (cnn-lessons mark-slides), a new heading or lesson must be marked too."""
    scripts = sorted(LESSONS_DIR.glob("[0-9][0-9]-*.py"))
    assert all("slideshow=" in script.read_text() for script in scripts), "write them with: cnn-lessons mark-slides"
    stale = slides.mark_lessons(LESSONS_DIR, check=True)
    assert stale == [], f"{[p.name for p in stale]} lack their slide marks; write them with: cnn-lessons mark-slides"
