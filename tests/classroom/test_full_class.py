"""The whole class (`make test-classroom`, run by CI after `make test-elsewhere`; too slow for `make test`).

Several students at once on a real JupyterHub on loopback (classroom/jupyterhub_config.py): each logs in through
the hub's REST API, opens the `cnn-lessons hub-link` link of the student branch (nbgitpuller clones it from a
local bare repository into the student's own home) and runs every lesson, top to bottom, in a fresh kernel of
their own server, all students concurrently.

What runs is the student copy, the lessons as the link gives them to students: every exercise's solution is a
starter, so each exercise cell fails with its checker's "not written yet" (at least one per lesson, else the
solutions leaked into the branch). Any other error output, in any cell, fails the test. Then every student's
token is refused by every other student's server and by the hub for the other's server.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hub_harness import open_class, require_classroom, run_lessons, unexpected_errors, unwritten_exercises

from cnn_lessons.cli import LESSONS_DIR

STUDENTS = ["ada", "alan", "grace"]
CLASS_TIMEOUT_S = 1500  # a lesson not started by then fails the test (each cell also has its own limit)
LESSONS = sorted(LESSONS_DIR.glob("*.ipynb"))


def test_a_class_runs_every_lesson_at_once_each_student_in_their_own_server():
    require_classroom()
    with tempfile.TemporaryDirectory(prefix="cnn-lessons-class-", ignore_cleanup_errors=True) as work:
        with open_class(Path(work), STUDENTS) as (hub, link, students):
            start, deadline = time.monotonic(), time.monotonic() + CLASS_TIMEOUT_S
            with ThreadPoolExecutor(len(STUDENTS)) as pool:
                futures = {name: pool.submit(run_lessons, students[name], link, deadline=deadline) for name in STUDENTS}
                ran = {name: future.result() for name, future in futures.items()}
            print(f"\n{len(STUDENTS)} students ran every lesson at once in {time.monotonic() - start:.0f} s")
            for name, lessons in ran.items():
                assert sorted(lessons) == [lesson.name for lesson in LESSONS], name
                for lesson, runs in lessons.items():
                    print(f"  {name:6} {lesson:40} {sum(run.seconds for run in runs):6.1f} s, {len(runs)} cells")
                    assert unexpected_errors(runs) == [], (name, lesson)
                    assert unwritten_exercises(runs) >= 1, f"{lesson}: no exercise said 'not written yet'"

            for one, other in itertools.permutations(students.values(), 2):
                for path in ("api/status", "api/kernels", "api/sessions", "api/contents/cnn-lessons/notebooks", "lab"):
                    answer = one.request("GET", f"{other.server}/{path}")
                    assert answer.status_code == 403, (one.name, other.name, path, answer.status_code)
                for method in ("POST", "DELETE"):
                    answer = one.request(method, f"{hub.url}/hub/api/users/{other.name}/server")
                    assert answer.status_code in (403, 404), (one.name, other.name, method)
                assert one.request("GET", f"{one.server}/api/status").status_code == 200
            started = hub.processes()
        assert started and not [p for p in started if p.is_running() and p.status() != "zombie"]
    assert not Path(work).exists()
