# JupyterHub for a class of these lessons on ONE machine, listening on 127.0.0.1 only.
#
#   CNN_LESSONS_HUB_PASSWORD=some-class-password CNN_LESSONS_HUB_STUDENTS="ada,alan,grace" \
#       .venv/bin/jupyterhub -f classroom/jupyterhub_config.py
#
# (`make classroom` installs JupyterHub, nbgitpuller and the proxy first.) Then hand each student the link
# `cnn-lessons hub-link http://127.0.0.1:8000 --branch student` prints (README, "Running a class").
#
# This is what the classroom tests (tests/classroom) and benchmarks/classroom.py start. It is a rehearsal and
# test set-up, not a production hub:
# - Students log in with one shared password (SharedPasswordAuthenticator, JupyterHub's successor to the dummy
#   authenticator's password): anyone who has it can log in as any student.
# - SimpleLocalProcessSpawner runs every student's server as the Unix user running the hub, each in its own home
#   folder (HOME and the working directory), with no isolation between students beyond the hub's tokens.
# - Per-user limits below are NOT enforced by this spawner (it only passes them on as MEM_LIMIT / CPU_LIMIT).
# For a real class use The Littlest JupyterHub (one server, a Unix user per student, limits enforced by systemd)
# or Zero to JupyterHub (Kubernetes); the README gives the limits measured for these lessons in their syntax.
#
# Settings come from the environment, so that tests can run several hubs side by side:
#   CNN_LESSONS_HUB_PASSWORD   the shared password (8 characters or more; required)
#   CNN_LESSONS_HUB_STUDENTS   the roster: names separated by commas or spaces (unset: anyone with the password)
#   CNN_LESSONS_HUB_PORT       the port students open (default 8000); the hub's own API and the proxy's API take
#   CNN_LESSONS_HUB_API_PORT   and CNN_LESSONS_HUB_PROXY_API_PORT (defaults 8081 and 8001)
#   CNN_LESSONS_HUB_DATA       folder for the hub's database, cookie secret and proxy pid (default .classroom/hub)
#   CNN_LESSONS_HUB_HOMES      folder holding one home folder per student (default .classroom/homes)
# ruff: noqa: F821  (`c` is the config object JupyterHub passes in)

import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROXY = REPO / ".classroom" / "node_modules" / ".bin" / "configurable-http-proxy"
LOOPBACK = "127.0.0.1"


def _setting(name: str, default: str = "") -> str:
    return os.environ.get(f"CNN_LESSONS_HUB_{name}", default).strip()


password = _setting("PASSWORD")
if len(password) < 8:
    sys.exit(
        "classroom/jupyterhub_config.py: set CNN_LESSONS_HUB_PASSWORD to the class's shared password "
        "(8 characters or more) before starting the hub"
    )
if not PROXY.exists():
    sys.exit(f"classroom/jupyterhub_config.py: no proxy at {PROXY}; run `make classroom` to install it from npm")
data = Path(_setting("DATA", str(REPO / ".classroom" / "hub"))).resolve()
homes = Path(_setting("HOMES", str(REPO / ".classroom" / "homes"))).resolve()
data.mkdir(parents=True, exist_ok=True)
homes.mkdir(parents=True, exist_ok=True)

# --- loopback only: the students' port, the hub's API and the proxy's API -------------------------------------
c.JupyterHub.ip = LOOPBACK
c.JupyterHub.port = int(_setting("PORT", "8000"))
c.JupyterHub.hub_ip = LOOPBACK
c.JupyterHub.hub_port = int(_setting("API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://{LOOPBACK}:{_setting('PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.command = [str(PROXY)]
c.ConfigurableHTTPProxy.pid_file = str(data / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{data / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(data / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(data / "jupyterhub.pid")
# stopping the hub stops the proxy and every student's server too (the tests rely on it)
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# --- who may log in ----------------------------------------------------------------------------------------------
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = password
roster = {name for name in re.split(r"[,\s]+", _setting("STUDENTS")) if name}
if roster:
    c.Authenticator.allowed_users = roster  # created at start-up, so they can log in through the REST API too
else:
    c.Authenticator.allow_all = True

# --- each student's server: this Python's Jupyter, in the student's own home folder ------------------------------
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(homes / "{username}")
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.ip = LOOPBACK
if os.geteuid() == 0:
    c.Spawner.args = ["--allow-root"]  # containers and CI machines often run as root; Jupyter refuses it otherwise
# a 2-core machine starting several servers at once is slow: allow it time rather than fail the spawn
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
# one math thread per kernel: students share the cores, and more threads per kernel only add contention;
# JupyterLab's settings for the lessons (jupyter-config/README.md), as `cnn-lessons lab` gives them
c.Spawner.environment = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "JUPYTER_CONFIG_PATH": str(REPO / "jupyter-config"),
}

# --- per-user limits (measured with benchmarks/classroom.py; README, "Running a class") ------------------------
# SimpleLocalProcessSpawner does not enforce these; The Littlest JupyterHub (systemd) and Kubernetes do.
# A student's server plus kernel peaks at 0.7-0.8 GB in lessons 01-03, 05 and 06 and at 1.2 GB in lesson 04;
# the limit leaves room for re-run cells. A Run All takes 8-26 CPU seconds on one math thread: 0.2 of a core
# each lets a class of 30 (6 cores) run the heaviest lesson in about two minutes.
c.Spawner.mem_guarantee = "1G"
c.Spawner.mem_limit = "2G"
c.Spawner.cpu_guarantee = 0.2
c.Spawner.cpu_limit = 1
# at most this many servers at once on one machine, and start them a few at a time
c.JupyterHub.active_server_limit = 40
c.JupyterHub.concurrent_spawn_limit = 10
