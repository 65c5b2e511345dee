"""The cnn-lessons command: student copies, hub links and the doctor, including their error messages."""

import importlib
import importlib.metadata
import json
from pathlib import Path

import nbformat
import pytest
import torch
from nbclient import NotebookClient

from cnn_lessons import doctor, exercises, ops
from cnn_lessons.cli import LESSONS_DIR, hub_link, main, strip_solutions

LESSONS = sorted(LESSONS_DIR.glob("*.ipynb"))


def test_student_copy_strips_solutions_and_outputs(tmp_path, capsys):
    assert main(["student-copy", str(tmp_path)]) == 0
    assert f"wrote {len(LESSONS)} lessons" in capsys.readouterr().out
    for lesson in LESSONS:
        copy = json.loads((tmp_path / lesson.name).read_text())
        for cell in copy["cells"]:
            assert "### BEGIN SOLUTION" not in cell["source"]
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None
        solutions = [c for c in copy["cells"] if "solution" in c["metadata"].get("tags", [])]
        assert len(solutions) >= 3, f"{lesson.name} has fewer than three exercises"
        starters = ('raise NotImplementedError("your code here")', " = ...  # your answer here")
        assert all(any(words in c["source"] for words in starters) for c in solutions)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_student_copy_runs_with_only_the_exercises_failing(tmp_path, lesson):
    notebook = strip_solutions(json.loads(lesson.read_text()), lesson.name)
    nb = nbformat.from_dict(notebook)
    NotebookClient(nb, timeout=600, allow_errors=True, resources={"metadata": {"path": str(LESSONS_DIR)}}).execute()
    failing = {i for i, c in enumerate(nb.cells) for o in c.get("outputs", []) if o["output_type"] == "error"}
    exercise_cells = {i for i, c in enumerate(nb.cells) if {"solution", "exercise"} & set(c.metadata.get("tags", []))}
    assert failing, "the starters should make the exercise checks fail"
    assert failing <= exercise_cells, f"cells {sorted(failing - exercise_cells)} fail but are not exercises"
    messages = [o["evalue"] for c in nb.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert all("not written yet" in m for m in messages), messages


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_each_exercise_of_a_student_copy_says_it_is_not_written_yet(lesson):
    """The exercise cells alone (not the lesson), run in order: every checker says "not written yet", no NameError."""
    notebook = strip_solutions(json.loads(lesson.read_text()), lesson.name)
    namespace = {"exercises": exercises, "ops": ops, "torch": torch, "F": torch.nn.functional}
    checked = 0
    for cell in notebook["cells"]:
        tags = set(cell["metadata"].get("tags", []))
        if "solution" in tags:
            exec(cell["source"], namespace)  # a function's starter defines it; a value's assigns `...`
        elif "exercise" in tags:
            with pytest.raises(exercises.ExerciseFailed, match="not written yet"):
                exec(cell["source"], namespace)
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("### BEGIN SOLUTION\nanswer = [[4, 3], [2, 1]]\n### END SOLUTION", "answer = ...  # your answer here"),
        ("### BEGIN SOLUTION\ntotal: int = 2 * 3\n### END SOLUTION", "total = ...  # your answer here"),
        ("  ### BEGIN SOLUTION\n  return 1\n  ### END SOLUTION", '  raise NotImplementedError("your code here")'),
        ("### BEGIN SOLUTION\nprint(2 * 3)\n### END SOLUTION", 'raise NotImplementedError("your code here")'),
        ("### BEGIN SOLUTION\na, b = 1, 2\n### END SOLUTION", 'raise NotImplementedError("your code here")'),
    ],
)
def test_a_value_exercise_starts_as_an_ellipsis(block, expected):
    notebook = {"cells": [{"cell_type": "code", "source": block, "metadata": {"tags": ["solution"]}}]}
    assert strip_solutions(notebook)["cells"][0]["source"] == expected


def test_student_copy_never_overwrites_without_force(tmp_path, capsys):
    (tmp_path / LESSONS[0].name).write_text("the teacher's notes")
    assert main(["student-copy", str(tmp_path)]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert (tmp_path / LESSONS[0].name).read_text() == "the teacher's notes"
    assert main(["student-copy", str(tmp_path), "--force"]) == 0


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        (lambda d: d.joinpath("bad.ipynb").write_text("{not json"), "is not a readable notebook"),
        (lambda d: d.joinpath("bad.ipynb").write_text('{"cells": 3}'), "is not a Jupyter notebook"),
        (lambda d: None, "no lessons (*.ipynb)"),
    ],
)
def test_student_copy_explains_bad_input(tmp_path, capsys, setup, words):
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    setup(lessons)
    assert main(["student-copy", str(tmp_path / "out"), "--notebook-dir", str(lessons)]) == 2
    assert words in capsys.readouterr().err


def test_student_copy_explains_an_unwritable_out(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["student-copy", str(blocker / "out")]) == 2
    assert "cannot write the student copy" in capsys.readouterr().err


def test_solution_without_markers_is_refused():
    notebook = {"cells": [{"cell_type": "code", "source": "x = 1", "metadata": {"tags": ["solution"]}}]}
    with pytest.raises(Exception, match="no ### BEGIN/END SOLUTION block"):
        strip_solutions(notebook, "lesson.ipynb")


def test_hub_link(capsys):
    assert (
        main(["hub-link", "https://hub.example.edu/", "--repo", "https://git.example.edu/class/cnn-lessons.git"]) == 0
    )
    link = capsys.readouterr().out.strip()
    assert link.startswith("https://hub.example.edu/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgit.example.edu")
    assert "urlpath=lab%2Ftree%2Fcnn-lessons%2Fnotebooks" in link and link.endswith("branch=main")
    assert hub_link("https://h.edu", "https://x.org/a/b", "dev").endswith(
        "urlpath=lab%2Ftree%2Fb%2Fnotebooks&branch=dev"
    )
    assert main(["hub-link", "hub.example.edu", "--repo", "https://x.org/r.git"]) == 2
    assert "must be an http(s) address" in capsys.readouterr().err


def test_doctor_passes_in_the_project_environment(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "all good" in out and "\u2713 widget front-end extensions" in out


def test_doctor_reports_a_missing_ipympl_with_its_fix(monkeypatch, capsys):
    real_version, real_import = importlib.metadata.version, importlib.import_module

    def version(name):
        if name == "ipympl":
            raise importlib.metadata.PackageNotFoundError(name)
        return real_version(name)

    def import_module(name, *args):
        if name.startswith("ipympl"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args)

    monkeypatch.setattr(doctor.metadata, "version", version)
    monkeypatch.setattr(doctor.importlib, "import_module", import_module)
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert (
        "\u2717 pinned packages: ipympl is not installed (the lessons need ipympl==0.10.0). Fix: run `make lab`" in out
    )
    assert "ipympl is not installed: explorers cannot draw" in out


def test_doctor_reports_a_missing_frontend_extension(monkeypatch, capsys):
    monkeypatch.setattr(doctor, "_labextension_version", lambda package: None)
    assert main(["doctor"]) == 1
    assert "jupyter-matplotlib (from ipympl) is missing" in capsys.readouterr().out


def test_notebooks_dir_is_the_repository_one():
    assert LESSONS_DIR == Path(__file__).resolve().parent.parent / "notebooks"
