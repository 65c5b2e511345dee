"""A real JupyterHub on loopback, the quick version: `make test-classroom` runs it before the full class
(test_full_class.py); not in `make test`, whose four minutes it would cost 35-45 s.

One student logs in through the hub's REST API, opens the `cnn-lessons hub-link` link of the student branch
(nbgitpuller clones it from a local bare repository into the student's home), and runs the first cells of lesson
01 in their own server's kernel; a second student's token is refused by the first student's server.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import psutil
from hub_harness import open_class, require_classroom, unexpected_errors

from cnn_lessons import doctor
from cnn_lessons.cli import LESSONS_DIR

LESSONS = sorted(LESSONS_DIR.glob("*.ipynb"))
FIRST_CELLS = 4  # the imports and the first computations: torch, the package, a kernel that answers


def test_a_student_pulls_the_student_branch_and_runs_a_lesson_in_their_own_server():
    require_classroom()
    with tempfile.TemporaryDirectory(prefix="cnn-lessons-hub-", ignore_cleanup_errors=True) as work:
        with open_class(Path(work), ["ada", "alan"], servers=["ada"]) as (hub, link, students):
            ada, alan = students["ada"], students["alan"]
            assert ada.open_link(link) == "lab/tree/cnn-lessons/notebooks"  # where JupyterLab opens after the pull
            # her JupyterLab has the lessons' settings (jupyter-config/), as `cnn-lessons lab` has them
            lab_page = ada.request("GET", f"{ada.server}/lab").text
            config = re.search(r'id="jupyter-config-data" type="application/json">(.*?)</script>', lab_page, re.S)
            assert "@jupyterlab/application-extension:faviconbusy" in json.loads(config[1])["disabledExtensions"]
            pulled = ada.api("GET", "contents/cnn-lessons/notebooks")["content"]
            assert sorted(item["name"] for item in pulled) == [lesson.name for lesson in LESSONS]
            for lesson in LESSONS:  # the student branch: no solutions, no outputs
                notebook = ada.api("GET", f"contents/cnn-lessons/notebooks/{lesson.name}")["content"]
                assert not [c for c in notebook["cells"] if "### BEGIN SOLUTION" in c["source"]], lesson.name
                assert not [c for c in notebook["cells"] if c.get("outputs")], lesson.name

            runs = ada.run_notebook(f"cnn-lessons/notebooks/{LESSONS[0].name}", cells=FIRST_CELLS)
            assert len(runs) == FIRST_CELLS and unexpected_errors(runs) == []

            # alan's token opens nothing of ada's: her server's API, files, kernels; nor may he start or stop it
            for path in ("api/status", "api/kernels", "api/contents/cnn-lessons/notebooks", "lab"):
                assert alan.request("GET", f"{ada.server}/{path}").status_code == 403, path
            for method in ("POST", "DELETE"):
                assert alan.request(method, f"{hub.url}/hub/api/users/ada/server").status_code in (403, 404)
            assert ada.request("GET", f"{ada.server}/api/status").status_code == 200
            started = hub.processes()
        assert started and not [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not Path(work).exists()


def test_doctor_finds_the_classroom_install_complete():
    require_classroom()  # `make classroom` installed nbgitpuller and enabled it (its package ships the config)
    assert doctor.check_hub() == []
