"""Marking the lessons' exercises for nbgrader, and the student copy made by nbgrader's preprocessors.

The nbgrader course itself (generate_assignment, three submissions autograded, feedback) is
tests/test_grading_course.py, run by `make test-grading`.
"""

import json
import re
import shutil

import jupytext
import nbformat
import pytest
from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import ClearSolutions
from traitlets.config import Config

from cnn_lessons import grading
from cnn_lessons.cli import LESSONS_DIR

LESSONS = sorted(LESSONS_DIR.glob("*.ipynb"))
SCRIPTS = sorted(LESSONS_DIR.glob("[0-9]*.py"))


def lesson(*cells: tuple[str, str | None]) -> nbformat.NotebookNode:
    """A notebook of code cells, each (source, tag or None)."""
    new = nbformat.v4.new_code_cell
    return nbformat.v4.new_notebook(cells=[new(s, metadata={"tags": [t]} if t else {}) for s, t in cells])


FUNCTION = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"


def tagged(notebook, tag):
    return [c for c in notebook.cells if tag in c.metadata.get("tags", [])]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_every_exercise_of_a_lesson_is_marked_the_nbgrader_way(path):
    notebook = nbformat.read(path, as_version=4)
    checkers = grading.mark_exercises(notebook, path.name)
    solutions, tests = tagged(notebook, "solution"), tagged(notebook, "exercise")
    assert checkers == len(tests) >= 3
    for cell in solutions:
        assert cell.metadata.nbgrader == {
            "grade": False,
            "grade_id": cell.metadata.nbgrader.grade_id,
            "locked": False,
            "schema_version": 3,
            "solution": True,
            "task": False,
        }
    for cell in tests:
        meta = cell.metadata.nbgrader
        assert meta.grade and meta.locked and not meta.solution and meta.points == grading.POINTS
        assert meta.grade_id.startswith("check_"), meta.grade_id  # named after the checker it calls
    ids = [c.metadata.nbgrader.grade_id for c in solutions + tests]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[A-Za-z0-9_-]+", i) for i in ids)
    again = nbformat.from_dict(json.loads(json.dumps(notebook)))
    assert grading.mark_exercises(again, path.name) == checkers and again == notebook  # marking twice: no change


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_marking_a_lesson_script_changes_only_its_exercise_headers(path):
    """An unmarked script gains metadata on its exercise cells' headers; a marked one is what marking gives."""
    before = path.read_text()
    notebook = jupytext.read(path)
    grading.mark_exercises(notebook, path.name)
    after = jupytext.writes(notebook, fmt="py:percent")
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert all(a.startswith("# %% tags=") and b.startswith("# %% nbgrader={") for a, b in changed), changed[:2]
    exercise_cells = len(tagged(notebook, "solution") + tagged(notebook, "exercise"))
    assert len(changed) == (0 if "# %% nbgrader={" in before else exercise_cells)


def test_marking_a_script_in_place(tmp_path, capsys):
    script = tmp_path / "01-lesson.py"
    shutil.copy(SCRIPTS[0], script)
    assert grading.main([str(script)]) == 0
    assert f"{script}: " in capsys.readouterr().out
    once = script.read_text()
    assert once.count("# %% nbgrader={") == len(tagged(jupytext.read(script), "solution")) * 2
    assert grading.main([str(script)]) == 0 and script.read_text() == once


def test_marking_notebooks_copied_into_a_course(tmp_path, capsys):
    copies = [shutil.copy(path, tmp_path / path.name) for path in LESSONS]
    assert grading.main([str(path) for path in copies]) == 0
    for copy in map(nbformat.read, copies, [4] * len(copies)):
        tests = tagged(copy, "exercise")
        assert tests and all(c.metadata.nbgrader.grade and c.metadata.nbgrader.locked for c in tests)
    assert "rebuild" not in capsys.readouterr().out  # a notebook has no script to rebuild it from


def test_ids_come_from_what_the_cells_name():
    notebook = lesson(
        (FUNCTION, "solution"),
        ("exercises.check_f(f)", "exercise"),
        ("### BEGIN SOLUTION\nanswer = 3\n### END SOLUTION", "solution"),
        ("assert answer == 3", "exercise"),
        (FUNCTION, "solution"),
        ("exercises.check_f(f)", "exercise"),
    )
    assert grading.mark_exercises(notebook) == 3
    ids = [c.metadata.nbgrader.grade_id for c in notebook.cells]
    assert ids == ["f", "check_f", "answer", "answer_check", "f_2", "check_f_2"]


def test_a_teachers_own_metadata_is_kept():
    notebook = lesson((FUNCTION, "solution"), ("exercises.check_f(f)", "exercise"))
    own = {"grade": True, "grade_id": "f_test", "locked": True, "points": 5, "schema_version": 3, "solution": False}
    notebook.cells[1].metadata.nbgrader = dict(own, task=False)
    grading.mark_exercises(notebook)
    assert notebook.cells[1].metadata.nbgrader.points == 5 and notebook.cells[0].metadata.nbgrader.grade_id == "f"


@pytest.mark.parametrize(
    ("cells", "words"),
    [
        ([("exercises.check_f(f)", "exercise")], "cell 0: tagged 'exercise' but no cell tagged 'solution' comes"),
        ([("x = 1", "solution")], "cell 0: tagged 'solution' but has no ### BEGIN/END SOLUTION block"),
    ],
)
def test_marking_explains_a_malformed_exercise(cells, words):
    with pytest.raises(grading.GradingError, match=re.escape(f"lesson.ipynb, {words}")):
        grading.mark_exercises(lesson(*cells), "lesson.ipynb")


def test_marking_a_missing_script_says_so(tmp_path, capsys):
    assert grading.main([str(tmp_path / "nope.py")]) == 2
    assert "nope.py" in capsys.readouterr().err


def test_student_notebook_starters_and_nbgraders_errors():
    text = grading.student_notebook(lesson((FUNCTION, "solution"), ("exercises.check_f(f)", "exercise")))
    copy = nbformat.reads(text, as_version=4)
    assert copy.cells[0].source == 'def f(x):\n    raise NotImplementedError("your code here")\n'
    assert copy.cells[1].metadata.editable is False and copy.cells[1].metadata.nbgrader.checksum
    unclosed = lesson(("def f():\n    ### BEGIN SOLUTION\n    return 1\n### END SOLUTION", "solution"))
    unclosed.cells[0].source = unclosed.cells[0].source.replace("### END SOLUTION", "")
    with pytest.raises(grading.GradingError):  # no block for the marking
        grading.student_notebook(unclosed, "lesson.ipynb")
    stray = lesson((FUNCTION, None))  # a solution block in a cell not tagged 'solution': nbgrader refuses it
    with pytest.raises(grading.GradingError, match="lesson.ipynb: Solution region detected in a non-solution cell"):
        grading.student_notebook(stray, "lesson.ipynb")


def test_a_course_generates_with_the_starters():
    c = Config()
    grading.configure(c)
    default = GenerateAssignment.class_traits()["preprocessors"].default()
    assert c.GenerateAssignment.preprocessors == [
        grading.StarterSolutions if p is ClearSolutions else p for p in default
    ]
    assert ClearSolutions not in c.GenerateAssignment.preprocessors and c.Execute.timeout == grading.EXECUTE_TIMEOUT
