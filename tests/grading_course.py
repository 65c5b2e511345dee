"""A real nbgrader course in a folder, for the grading tests: lessons as the source of one assignment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

from cnn_lessons import grading

ASSIGNMENT = "lessons"
CONFIG = """\
from cnn_lessons import grading

c = get_config()  # noqa: F821 (nbgrader defines it)
c.CourseDirectory.course_id = "cnn-lessons"
grading.configure(c)
"""


def nbgrader(course: Path, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in ``course``; this environment's bin comes first on PATH (nbgrader runs alembic)."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    argv = [str(bin_dir / "nbgrader"), *args]
    result = subprocess.run(argv, cwd=course, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr[-5000:]}"
    return result


def marked(lesson: Path) -> nbformat.NotebookNode:
    """A lesson as nbgrader's source: its exercises marked (a lesson whose file is marked already stays as it is)."""
    notebook = nbformat.read(lesson, as_version=4)
    grading.mark_exercises(notebook, lesson.name)
    return notebook


def make_course(course: Path, lessons: list[Path]) -> Path:
    """A course folder whose assignment ``lessons`` holds these lessons, generated (released) by nbgrader."""
    source = course / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(CONFIG)
    for lesson in lessons:
        nbformat.write(marked(lesson), source / lesson.name)
    nbgrader(course, "generate_assignment", ASSIGNMENT)
    return course
