"""A real nbgrader course: every lesson as an assignment, released, three submissions autograded, feedback.

For each lesson (found by glob), a course folder whose source is the lesson (its exercises marked), then
``nbgrader generate_assignment`` and ``nbgrader autograde`` of three submissions: the teacher's solutions (full
marks), the untouched release (no marks, no crash, and only the exercises' checkers fail, each saying "not
written yet") and the solutions with one typical wrong answer (that exercise's point lost, no other), whose
``nbgrader generate_feedback`` shows the checker's message naming the mistake. Each lesson runs three times:
``make test-grading``, not ``make test``. Also here, for its cost (nbgrader's release of every lesson): ``cnn-lessons
student-copy`` writes the same bytes as ``nbgrader generate_assignment``.
"""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

import nbformat
import pytest
from grading_course import ASSIGNMENT, make_course, marked, nbgrader
from nbgrader.api import Gradebook

from cnn_lessons.cli import LESSONS_DIR, main

LESSONS = sorted(LESSONS_DIR.glob("[0-9]*.ipynb"))

# One typical wrong answer per lesson: the solution cell's grade id (what it defines), the wrong lines that replace
# its solution block, and the words of the checker's message that name the mistake.
WRONG_ANSWERS = {
    "my_correlate1d": (
        "n, k = len(signal), len(kernel)\n"
        "return [sum(signal[i + j] * kernel[j] for j in range(k)) for i in range(n - k)]",
        "your loop stops one position early",
    ),
    "output_size": (
        "return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride",
        "you left out the + 1",
    ),
    "parameters": (
        "return in_channels // groups * kernel_size * kernel_size * out_channels",
        "you forgot the biases: one per output channel",
    ),
    "dense_block_channels": (
        "return in_channels + growth_rate",
        "growth_rate is what EACH of the num_layers layers adds",
    ),
    "output_padding": ("return 0", "you always answered 0"),
    "batch_norm": (
        "mean = x.mean(dim=(0, 2, 3), keepdim=True)\nvar = x.var(dim=(0, 2, 3), keepdim=True)\n"
        "return (x - mean) / torch.sqrt(var + eps) * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)",
        "you used the unbiased variance",
    ),
}
BLOCK = re.compile(r"^([ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION[ \t]*$", re.M | re.S)
STUDENTS = ("teacher", "release", "wrong")


def nbgrader_cells(notebook, kind: str) -> list:
    """The cells nbgrader grades (kind "grade") or takes answers in (kind "solution")."""
    return [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get(kind)]


def with_wrong_answer(notebook) -> tuple[str, str]:
    """Put one typical wrong answer into ``notebook`` (the solutions): the checker it fails, the words it says."""
    for index, cell in enumerate(notebook.cells):
        answer = cell.metadata.nbgrader.grade_id if cell in nbgrader_cells(notebook, "solution") else None
        if answer in WRONG_ANSWERS:
            lines, words = WRONG_ANSWERS[answer]
            block = BLOCK.search(cell.source)
            wrong = "\n".join(block.group(1) + line for line in lines.split("\n"))
            cell.source = cell.source[: block.start()] + wrong + cell.source[block.end() :]
            checker = next(c for c in notebook.cells[index + 1 :] if c.metadata.get("nbgrader", {}).get("grade"))
            return checker.metadata.nbgrader.grade_id, words
    names = [c.metadata.nbgrader.grade_id for c in nbgrader_cells(notebook, "solution")]
    raise AssertionError(f"add a typical wrong answer to one of {names} to WRONG_ANSWERS (with its checker's words)")


def grade(lesson: Path, root: Path) -> dict:
    """A course of one lesson in ``root``, generated, its three submissions autograded, the wrong one's feedback."""
    start = time.perf_counter()
    make_course(root, [lesson])
    submissions = {
        "teacher": marked(lesson),
        "release": nbformat.read(root / "release" / ASSIGNMENT / lesson.name, as_version=4),
        "wrong": marked(lesson),
    }
    wrong_checker, mistake = with_wrong_answer(submissions["wrong"])
    for student, notebook in submissions.items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / lesson.name)
    nbgrader(root, "autograde", ASSIGNMENT)
    nbgrader(root, "generate_feedback", ASSIGNMENT, "--student", "wrong")
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        scores = {s: scores_of(gradebook, lesson.stem, s) for s in STUDENTS}
        most = gradebook.find_submission_notebook(lesson.stem, ASSIGNMENT, "teacher").max_score
    seconds = time.perf_counter() - start
    marks = ", ".join(f"{s} {sum(scores[s].values()):g}/{most:g}" for s in STUDENTS)
    print(f"\n{lesson.stem}: {marks} ({seconds:.0f} s)")  # shown by make test-grading (pytest -rP)
    return {"lesson": lesson, "root": root, "scores": scores, "wrong_checker": wrong_checker, "mistake": mistake}


def scores_of(gradebook: Gradebook, notebook: str, student: str) -> dict[str, float]:
    """Each autograded test cell's score in one submission, by grade id."""
    submission = gradebook.find_submission_notebook(notebook, ASSIGNMENT, student)
    return {grade.name: grade.score for grade in submission.grades}


def test_student_copy_is_what_nbgrader_generate_assignment_releases(tmp_path):
    """Every lesson, marked for nbgrader or not yet: the same bytes as the release of a course whose source it is."""
    course = make_course(tmp_path / "course", LESSONS)  # (nbgrader generate_assignment: 20-30 s)
    assert main(["student-copy", str(tmp_path / "copy")]) == 0
    for lesson in LESSONS:
        released = (course / "release" / ASSIGNMENT / lesson.name).read_text(encoding="utf-8")
        assert (tmp_path / "copy" / lesson.name).read_text(encoding="utf-8") == released, lesson.name


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda path: path.stem)
def test_nbgrader_grades_the_lesson(lesson, tmp_path):
    """One lesson a test, so that pytest-xdist's workers grade whole lessons side by side, none twice."""
    course = grade(lesson, tmp_path)
    the_teachers_solutions_get_full_marks(course)
    the_untouched_release_gets_no_marks_and_only_its_checkers_fail(course)
    a_wrong_answer_loses_that_exercise_only_and_its_feedback_names_the_mistake(course)


def the_teachers_solutions_get_full_marks(course):
    points = nbgrader_cells(marked(course["lesson"]), "grade")
    assert course["scores"]["teacher"] == {c.metadata.nbgrader.grade_id: c.metadata.nbgrader.points for c in points}


def the_untouched_release_gets_no_marks_and_only_its_checkers_fail(course):
    scores = course["scores"]["release"]
    assert scores and set(scores.values()) == {0}
    lesson = course["lesson"]
    autograded = nbformat.read(course["root"] / "autograded" / "release" / ASSIGNMENT / lesson.name, as_version=4)
    errors = {i: o for i, c in enumerate(autograded.cells) for o in c.get("outputs", []) if o.output_type == "error"}
    checkers = {i for i, c in enumerate(autograded.cells) if c.metadata.get("nbgrader", {}).get("grade")}
    assert set(errors) == checkers, f"cells {sorted(set(errors) ^ checkers)}: an error outside the checkers, or none"
    assert all("not written yet" in o.evalue for o in errors.values()), [o.evalue for o in errors.values()]


def a_wrong_answer_loses_that_exercise_only_and_its_feedback_names_the_mistake(course):
    teacher, wrong, checker = course["scores"]["teacher"], course["scores"]["wrong"], course["wrong_checker"]
    assert wrong == {**teacher, checker: 0}
    lesson = course["lesson"]
    feedback = (course["root"] / "feedback" / "wrong" / ASSIGNMENT / f"{lesson.stem}.html").read_text()
    assert course["mistake"] in html.unescape(re.sub(r"<[^>]+>", "", feedback))
