"""The lessons' exercises as nbgrader assignments: their cell metadata, the student copy, a course's settings.

A lesson marks an exercise with tags (CONTRIBUTING.md): a cell tagged ``solution`` holds the answer between
``### BEGIN SOLUTION`` and ``### END SOLUTION``, the cell tagged ``exercise`` after it calls the checker.
:func:`mark_exercises` gives those cells nbgrader's metadata: the solution cell becomes an autograded answer, the
checker a locked autograded test worth :data:`POINTS` (the checker's message naming the mistake is what the
student reads in the feedback). It keeps metadata a teacher has already set, so marking twice changes nothing.

:func:`student_notebook` is the student copy of one lesson through nbgrader's own preprocessors, in the order
``nbgrader generate_assignment`` runs them (:func:`assignment_preprocessors`): the same JSON text, with
:class:`StarterSolutions` (nbgrader's ClearSolutions with this project's starters) in place of ClearSolutions.
:func:`configure` sets a course's ``nbgrader_config.py`` so that generate_assignment uses it too.

Marking the lessons' sources (the jupytext scripts; then ``make notebooks``), or notebooks copied into a course::

    .venv/bin/python -m cnn_lessons.grading notebooks/02-padding-stride-dilation.py
    python -m cnn_lessons.grading source/lessons/*.ipynb
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from pathlib import Path

import jupytext
import nbformat
from nbconvert.exporters import NotebookExporter
from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import ClearSolutions, SaveCells
from traitlets.config import Config

POINTS = 1  # per exercise: each checker cell is one autograded test
EXECUTE_TIMEOUT = 600  # seconds a cell may run when nbgrader autogrades (lesson 03 trains a network; nbgrader's is 30)
SOLUTION_BLOCK = re.compile(r"^([ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION[ \t]*$", re.M | re.S)
STARTER = '{indent}raise NotImplementedError("your code here")'
VALUE_STARTER = "{name} = ...  # your answer here"
_GRADE_ID = re.compile(r"[^A-Za-z0-9_-]")  # nbgrader's grade ids hold letters, digits, _ and - only


class GradingError(ValueError):
    """A lesson whose exercises cannot be marked: the message names the cell and what it lacks."""


def starter(indent: str, block: str) -> str:
    """What a student copy shows for one solution block (``block`` with its BEGIN/END lines).

    A value exercise (a block at the top of its cell that only assigns names, e.g. ``answer = [[4, 3], [2, 1]]``)
    starts as ``answer = ...``, so that its checker says "not written yet" instead of a NameError; anything else
    (the body of a function) starts as ``raise NotImplementedError``.
    """
    if not indent:
        try:
            body = ast.parse("\n".join(block.splitlines()[1:-1])).body
        except SyntaxError:
            body = []
        names = [_assigned_name(node) for node in body]
        if body and all(names):
            return "\n".join(VALUE_STARTER.format(name=name) for name in dict.fromkeys(names))
    return STARTER.format(indent=indent)


def _assigned_name(node: ast.stmt) -> str | None:
    """The one name a statement assigns (``x = ...``, ``x: int = ...``); None for anything else."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def _statements(source: str) -> list[ast.stmt]:
    try:
        return ast.parse(source).body
    except SyntaxError:
        return []


def _answer_name(source: str) -> str | None:
    """What a solution cell defines: its first function's (or class's) name, else the first name it assigns."""
    for node in _statements(source):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return node.name
    return next(filter(None, map(_assigned_name, _statements(source))), None)


def _checker_name(source: str) -> str | None:
    """The checker an exercise cell calls (``exercises.check_output_size(...)`` -> ``check_output_size``)."""
    for node in ast.walk(ast.Module(body=_statements(source), type_ignores=[])):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name and name.startswith("check_"):
                return name
    return None


def _unique(name: str, used: set[str]) -> str:
    name = _GRADE_ID.sub("_", name)
    candidate, number = name, 1
    while candidate in used:
        number += 1
        candidate = f"{name}_{number}"
    used.add(candidate)
    return candidate


def _set_metadata(cell: dict, nbgrader: dict) -> None:
    """Give ``cell`` nbgrader's metadata unless it has some; the keys sorted, as nbformat stores them."""
    metadata = cell.setdefault("metadata", {})
    metadata.setdefault("nbgrader", dict(sorted(nbgrader.items())))
    ordered = sorted(metadata.items())
    metadata.clear()
    metadata.update(ordered)


def mark_exercises(notebook: dict, name: str = "notebook", points: int = POINTS) -> int:
    """Give each tagged exercise nbgrader's cell metadata, in place; returns the number of exercises (checkers)."""
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise GradingError(f"{name} is not a Jupyter notebook (no list of cells)")
    used = {
        c["metadata"]["nbgrader"]["grade_id"] for c in cells if "grade_id" in c.get("metadata", {}).get("nbgrader", {})
    }
    answer, checkers = None, 0
    for index, cell in enumerate(cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        source = "".join(cell.get("source", ""))
        if "solution" in tags:
            if cell.get("cell_type") != "code" or not SOLUTION_BLOCK.search(source):
                raise GradingError(f"{name}, cell {index}: tagged 'solution' but has no ### BEGIN/END SOLUTION block")
            marked = cell["metadata"].get("nbgrader", {}).get("grade_id")
            answer = marked or _unique(_answer_name(source) or f"exercise_{checkers + 1}", used)
            solution = {"grade": False, "grade_id": answer, "locked": False, "solution": True, "task": False}
            _set_metadata(cell, {**solution, "schema_version": 3})
        elif "exercise" in tags:
            if answer is None:
                raise GradingError(
                    f"{name}, cell {index}: tagged 'exercise' but no cell tagged 'solution' comes before it; an "
                    "exercise is a solution cell followed by the cell that checks it"
                )
            checkers += 1
            if "nbgrader" not in cell["metadata"]:
                test = _unique(_checker_name(source) or f"{answer}_check", used)
                grade = {"grade": True, "grade_id": test, "locked": True, "points": points, "solution": False}
                _set_metadata(cell, {**grade, "schema_version": 3, "task": False})
    return checkers


class StarterSolutions(ClearSolutions):
    """nbgrader's ClearSolutions with this project's starters (:func:`starter`) instead of nbgrader's stub."""

    def _replace_solution_region(self, cell, language: str) -> bool:
        """Replace each ``### BEGIN/END SOLUTION`` block by its starter; anything else as ClearSolutions does."""
        begins = sum(self.begin_solution_delimeter in line for line in cell.source.split("\n"))
        if cell.cell_type == "code" and language == "python" and begins:
            source, blocks = SOLUTION_BLOCK.subn(lambda m: starter(m.group(1), m.group(0)), cell.source)
            if blocks == begins:
                cell.source = source
                return True
        return super()._replace_solution_region(cell, language)


def assignment_preprocessors() -> list[type]:
    """nbgrader generate_assignment's preprocessors, in its order, with StarterSolutions for ClearSolutions."""
    default = GenerateAssignment.class_traits()["preprocessors"].default()
    return [StarterSolutions if preprocessor is ClearSolutions else preprocessor for preprocessor in default]


def configure(c: Config) -> None:
    """Set up an nbgrader course for the lessons: ``configure(c)`` in its nbgrader_config.py."""
    c.GenerateAssignment.preprocessors = assignment_preprocessors()
    c.Execute.timeout = EXECUTE_TIMEOUT


def student_notebook(notebook: dict, name: str = "notebook") -> str:
    """The student copy of a lesson as JSON text: what nbgrader generate_assignment writes for it, byte for byte."""
    marked = nbformat.reads(json.dumps(notebook), as_version=4)  # as nbgrader reads a file: sources joined
    mark_exercises(marked, name)
    exporter = NotebookExporter(config=Config({"Exporter": {"default_preprocessors": []}}))
    for preprocessor in assignment_preprocessors():
        if preprocessor is not SaveCells:  # it records the cells in a course's gradebook; a copy has none
            exporter.register_preprocessor(preprocessor)
    try:
        text, _ = exporter.from_notebook_node(marked)
    except RuntimeError as error:  # nbgrader's ClearSolutions: nested or unclosed solution regions
        raise GradingError(f"{name}: {error}") from None
    return text


def mark_source(path: Path) -> int:
    """Mark the exercises of a lesson file in place (a jupytext script, or a notebook); returns how many."""
    if path.suffix == ".ipynb":
        notebook = nbformat.read(path, as_version=4)
        count = mark_exercises(notebook, path.name)
        nbformat.write(notebook, path)
        return count
    notebook = jupytext.read(path)
    count = mark_exercises(notebook, path.name)
    jupytext.write(notebook, path, fmt="py:percent")
    return count


def main(argv: list[str] | None = None) -> int:
    """``python -m cnn_lessons.grading LESSON...``: mark the exercises of lesson scripts or notebooks for nbgrader."""
    parser = argparse.ArgumentParser(prog="python -m cnn_lessons.grading", description=main.__doc__)
    parser.add_argument("lessons", nargs="+", type=Path, help="lesson scripts (notebooks/02-*.py) or notebooks")
    for path in parser.parse_args(argv).lessons:
        try:
            count = mark_source(path)
        except (OSError, GradingError) as error:
            print(f"{path}: {error}", file=sys.stderr)
            return 2
        rebuild = f"; rebuild its notebook: make notebooks SCRIPTS={path}" if path.suffix == ".py" else ""
        print(f"{path}: {count} exercises marked for nbgrader{rebuild}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
