"""The even-numbered lessons in a real browser, checked as ``test_lessons_in_browser.py`` checks the others.

A module of its own so that pytest-xdist (``--dist loadscope``: one module, one worker) runs the two halves of
the lessons at once, on both workers.
"""

from __future__ import annotations

import pytest
from test_lessons_in_browser import HALVES, LESSONS, check_lesson


def test_the_two_halves_hold_every_lesson_once():
    assert sorted(HALVES[0] + HALVES[1]) == LESSONS and not set(HALVES[0]) & set(HALVES[1])


@pytest.mark.parametrize("source", HALVES[1], ids=[p.stem for p in HALVES[1]])
def test_lesson_runs_in_jupyterlab_and_its_explorers_respond(source, lab, lesson_pages, screenshots):
    check_lesson(source, lab, lesson_pages, screenshots)
