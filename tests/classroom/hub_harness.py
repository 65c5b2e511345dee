"""A real JupyterHub on loopback, students who log in and run the lessons: for tests/classroom and the benchmark.

- :func:`running_hub` starts ``jupyterhub -f classroom/jupyterhub_config.py`` (the class's own config: shared
  password, one home folder per student, the proxy from ``.classroom/``) on free 127.0.0.1 ports, with its
  database and the students' homes in a temporary folder, and stops it, the proxy and every student's server and
  kernel when the ``with`` block ends (what is still alive after the hub exits is killed).
- :func:`publish_student_branch` does what a teacher does: ``cnn-lessons student-copy --branch student`` in a
  clone whose ``origin`` is a bare repository (standing in for the school's git server), ``git push origin
  student``, then ``cnn-lessons hub-link HUB --branch student``, whose ``--repo`` is that ``origin``.
- :func:`log_in` asks the hub's REST API for a token with the student's name and the shared password;
  :meth:`Student.start_server` starts the student's server; :meth:`Student.open_link` opens the link as a browser
  would (the hub redirects to the student's server, nbgitpuller's page names the clone) and runs the pull that
  page's script runs (its event stream), to the end.
- :meth:`Student.run_notebook` opens a notebook session in the student's server (its REST API), as JupyterLab
  does, and executes every code cell through the kernel's websocket, one at a time, collecting error output.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests
import websocket

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "classroom" / "jupyterhub_config.py"
PROXY = REPO / ".classroom" / "node_modules" / ".bin" / "configurable-http-proxy"
REPOSITORY_NAME = "cnn-lessons"  # the bare repository's name: the folder nbgitpuller clones into
BRANCH = "student"

# generous: a 2-core machine, shared with the rest of the tests, starting several servers and kernels at once
HUB_TIMEOUT_S = 120
SPAWN_TIMEOUT_S = 300
PULL_TIMEOUT_S = 120
CELL_TIMEOUT_S = 600
HTTP_TIMEOUT_S = 60
NOT_WRITTEN = "not written yet"  # what every exercise checker of a student copy says


def missing_reason() -> str | None:
    """Why no hub can start here (``None`` when one can)."""
    for module in ("jupyterhub", "nbgitpuller"):
        try:
            __import__(module)
        except ImportError:
            return f"the Python package {module} is not installed; run `make classroom`"
    if not PROXY.exists():
        return f"the hub's proxy is not installed at {PROXY}; run `make classroom` (it needs npm)"
    if shutil.which("git") is None:
        return "git is not installed"
    return None


def require_classroom() -> None:
    """In a test: skip when the hub cannot start here, or fail when ``CNN_LESSONS_CLASSROOM=required`` (make, CI)."""
    import pytest  # imported here: the benchmark uses this module without pytest

    reason = missing_reason()
    if reason is None:
        return
    if os.environ.get("CNN_LESSONS_CLASSROOM", "").strip().lower() == "required":
        pytest.fail(f"CNN_LESSONS_CLASSROOM=required, but {reason}", pytrace=False)
    pytest.skip(f"classroom tests skipped: {reason} (CNN_LESSONS_CLASSROOM=required makes this a failure)")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cnn_lessons_command() -> str:
    """The project's ``cnn-lessons`` script next to the running Python (the .venv's)."""
    script = Path(sys.executable).parent / "cnn-lessons"
    return str(script) if script.exists() else "cnn-lessons"


# --- the hub -----------------------------------------------------------------------------------------------------


@dataclass
class Hub:
    """A running hub: the address students open, the shared password, its process and log."""

    url: str
    password: str
    process: subprocess.Popen
    log: Path

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the hub's log (the students' servers log there too), without the harness's own polling."""
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(line for line in lines if not re.search(r"200 GET /hub/api/users/\w+ ", line))[-chars:]

    def wait_ready(self) -> None:
        """Wait until the hub answers through its proxy."""
        _wait_for(lambda: _hub_answers(self.url), HUB_TIMEOUT_S, "starting the hub", self, self.process)

    def processes(self) -> list[psutil.Process]:
        """The hub's descendants: the proxy, every student's server and kernel."""
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []


def _wait_for(check, timeout_s: float, what: str, hub: Hub | None = None, process=None):
    """Poll ``check()`` every quarter second until it returns something true; fail with the hub's log."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what}: the hub exited with {process.returncode}:\n{hub.log_tail() if hub else ''}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: nothing after {timeout_s} s:\n{hub.log_tail() if hub else ''}")
        time.sleep(0.25)


def _hub_answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/hub/api/", timeout=5).status_code == 200
    except requests.RequestException:
        return False


@contextlib.contextmanager
def running_hub(work: Path, students: list[str], wait: bool = True) -> Iterator[Hub]:
    """Run the class's hub on free loopback ports, its data and the students' homes under ``work``.

    ``wait=False`` yields as soon as the hub's process starts (call :meth:`Hub.wait_ready` before using it).
    """
    work = Path(work)
    port, password = free_port(), secrets.token_hex(12)
    env = dict(
        os.environ,
        CNN_LESSONS_HUB_PASSWORD=password,
        CNN_LESSONS_HUB_STUDENTS=",".join(students),
        CNN_LESSONS_HUB_PORT=str(port),
        CNN_LESSONS_HUB_API_PORT=str(free_port()),
        CNN_LESSONS_HUB_PROXY_API_PORT=str(free_port()),
        CNN_LESSONS_HUB_DATA=str(work / "hub"),
        CNN_LESSONS_HUB_HOMES=str(work / "homes"),
    )
    log = work / "hub.log"
    command = [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)]
    with open(log, "w") as log_file:
        process = subprocess.Popen(command, cwd=work, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    hub = Hub(f"http://127.0.0.1:{port}", password, process, log)
    try:
        if wait:
            hub.wait_ready()
        yield hub
    finally:
        stop_hub(hub)


def stop_hub(hub: Hub) -> None:
    """Stop the hub (which stops the proxy and the servers), then kill whatever it left alive."""
    left = hub.processes()
    hub.process.terminate()
    try:
        hub.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        hub.process.kill()
        hub.process.wait(timeout=30)
    for process in left:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(left, timeout=30)


# --- the teacher: the student branch and the link ----------------------------------------------------------------


def publish_student_branch(work: Path, hub_url: str, notebook_dir: Path | None = None) -> str:
    """Publish the student copy as a teacher does (student-copy --branch, git push) and return the hub link."""
    server, clone = Path(work) / f"{REPOSITORY_NAME}.git", Path(work) / "teacher"
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0")
    for variable in ("AUTHOR", "COMMITTER"):
        env[f"GIT_{variable}_NAME"], env[f"GIT_{variable}_EMAIL"] = "Teacher", "teacher@example.edu"

    def run(*argv, cwd=clone):
        return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout.strip()

    clone.mkdir(parents=True)
    run("git", "init", "-q", "--bare", str(server), cwd=work)
    run("git", "init", "-q", "-b", "main")
    run("git", "remote", "add", "origin", server.as_uri())
    copy = [cnn_lessons_command(), "student-copy", "--branch", BRANCH]
    run(*copy, *(["--notebook-dir", str(notebook_dir)] if notebook_dir else []))
    run("git", "push", "-q", "origin", BRANCH)
    return run(cnn_lessons_command(), "hub-link", hub_url, "--branch", BRANCH)


# --- a student ---------------------------------------------------------------------------------------------------


@dataclass
class CellRun:
    """One code cell executed: its index in the notebook, its tags, the errors it printed, its time."""

    index: int
    tags: set[str]
    errors: list[str]
    seconds: float

    @property
    def exercise(self) -> bool:
        """Is this an exercise's cell (its checker, or the solution a student writes)?"""
        return bool({"exercise", "solution"} & self.tags)


@dataclass
class Student:
    """A logged-in student: their token and a session that sends it."""

    hub: Hub
    name: str
    token: str
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self):
        self.session.headers["Authorization"] = f"token {self.token}"

    @property
    def server(self) -> str:
        """The address of this student's own server, through the hub's proxy."""
        return f"{self.hub.url}/user/{self.name}"

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        """One request with this student's token, redirects not followed (a refusal stays visible)."""
        return self.session.request(method, url, timeout=HTTP_TIMEOUT_S, allow_redirects=False, **kwargs)

    def api(self, method: str, path: str, **kwargs):
        """A call to the student's own server's REST API; its JSON answer."""
        response = self.request(method, f"{self.server}/api/{path}", **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def start_server(self) -> None:
        """Start the student's server through the hub's REST API and wait until the hub says it is ready."""
        response = self.request("POST", f"{self.hub.url}/hub/api/users/{self.name}/server")
        if response.status_code not in (201, 202, 400):  # 400: already running
            raise RuntimeError(f"starting {self.name}'s server: {response.status_code} {response.text}")

        def ready():
            server = self.request("GET", f"{self.hub.url}/hub/api/users/{self.name}").json()["servers"].get("")
            if server is None:  # the hub gave up on it: the server exited or never answered
                raise RuntimeError(f"{self.name}'s server did not start:\n{self.hub.log_tail()}")
            return server["ready"]

        _wait_for(ready, SPAWN_TIMEOUT_S, f"{self.name}'s server", self.hub, self.hub.process)

    def browser(self) -> requests.Session:
        """A session logged in through the hub's login form, as a browser is (cookies, not the token)."""
        browser = requests.Session()
        form = browser.get(f"{self.hub.url}/hub/login", timeout=HTTP_TIMEOUT_S)
        xsrf = re.search(r'name="_xsrf"\s+value="([^"]+)"', form.text)
        fields = {"username": self.name, "password": self.hub.password, "_xsrf": xsrf.group(1) if xsrf else ""}
        response = browser.post(f"{self.hub.url}/hub/login", data=fields, timeout=HTTP_TIMEOUT_S)
        if response.status_code != 200 or "/hub/login" in response.url:
            raise RuntimeError(f"{self.name} could not log in with the form: {response.status_code} {response.url}")
        return browser

    def open_link(self, link: str) -> str:
        """Open the hub link as a browser does and run nbgitpuller's pull to the end; the path it lands on."""
        browser = self.browser()
        response = browser.get(link, timeout=HTTP_TIMEOUT_S)  # hub -> this student's server (its OAuth) -> git-pull
        response.raise_for_status()
        if not response.url.startswith(f"{self.server}/git-pull?"):
            raise RuntimeError(f"{link} led {self.name} to {response.url}, not to their own server's git-pull")
        found = re.findall(r'data-([a-z]+)="([^"]*)"', response.text)
        page = {key: urllib.parse.unquote(value) for key, value in found}
        query = {key: page[key] for key in ("repo", "targetpath", "branch") if key in page}
        query["_xsrf"] = page.get("xsrf", "")  # what nbgitpuller's page script sends
        events = []
        url = f"{self.server}/git-pull/api"
        with browser.get(url, params=query, stream=True, timeout=PULL_TIMEOUT_S) as stream:
            stream.raise_for_status()
            for line in stream.iter_lines(decode_unicode=True):
                if line and line.startswith("data: "):
                    events.append(json.loads(line[len("data: ") :]))
                    if events[-1].get("phase") in ("finished", "error"):
                        break
        if not events or events[-1].get("phase") != "finished":
            raise RuntimeError(f"nbgitpuller did not finish for {self.name}: {events[-3:]}")
        return page["path"]

    def run_notebook(self, path: str, cells: int | None = None) -> list[CellRun]:
        """Execute the code cells of ``path`` (the first ``cells`` of them) in a fresh kernel of this server."""
        notebook = self.api("GET", f"contents/{urllib.parse.quote(path)}", params={"content": 1})["content"]
        code = [(i, c) for i, c in enumerate(notebook["cells"]) if c["cell_type"] == "code" and c["source"].strip()]
        body = {"path": path, "type": "notebook", "name": Path(path).name, "kernel": {"name": "python3"}}
        session = self.api("POST", "sessions", json=body)
        kernel = session["kernel"]["id"]
        url = (
            f"{self.server.replace('http://', 'ws://', 1)}/api/kernels/{kernel}/channels?session_id={uuid.uuid4().hex}"
        )
        connection = websocket.create_connection(url, header=[f"Authorization: token {self.token}"], timeout=60)
        try:
            runs = []
            for index, cell in code[:cells]:
                start = time.monotonic()
                errors = execute(connection, cell["source"], self.name)
                tags = set(cell.get("metadata", {}).get("tags", []))
                runs.append(CellRun(index, tags, errors, time.monotonic() - start))
            return runs
        finally:
            connection.close()
            with contextlib.suppress(requests.RequestException):
                self.request("DELETE", f"{self.server}/api/sessions/{session['id']}")


@contextlib.contextmanager
def open_class(work: Path, names: list[str], servers: list[str] | None = None):
    """The hub, the link and every student logged in, with servers started for ``servers`` (default: everyone).

    The teacher publishes the student branch while the hub starts; the servers start at the same time.
    """
    with running_hub(work, names, wait=False) as hub, ThreadPoolExecutor(len(names) + 1) as pool:
        link = pool.submit(publish_student_branch, work, hub.url)
        hub.wait_ready()
        students = {name: log_in(hub, name) for name in names}
        list(pool.map(Student.start_server, [students[name] for name in (names if servers is None else servers)]))
        yield hub, link.result(), students


def log_in(hub: Hub, name: str) -> Student:
    """Log ``name`` in through the hub's REST API (name and shared password): a student with a fresh token."""
    body = {"auth": {"username": name, "password": hub.password}, "note": "classroom test"}
    response = requests.post(f"{hub.url}/hub/api/users/{name}/tokens", json=body, timeout=HTTP_TIMEOUT_S)
    if response.status_code not in (200, 201):
        raise RuntimeError(f"logging {name} in: {response.status_code} {response.text}\n{hub.log_tail()}")
    return Student(hub, name, response.json()["token"])


def execute(connection, code: str, username: str) -> list[str]:
    """Run ``code`` through a kernel's websocket (Jupyter's JSON protocol); the errors it printed."""
    msg_id, now = uuid.uuid4().hex, datetime.datetime.now(datetime.UTC).isoformat()
    header = {"msg_id": msg_id, "msg_type": "execute_request", "username": username, "session": msg_id}
    content = {"code": code, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False}
    message = {"header": {**header, "date": now, "version": "5.3"}, "parent_header": {}, "metadata": {}}
    connection.send(json.dumps({**message, "content": {**content, "stop_on_error": True}, "channel": "shell"}))
    errors, replied, idle = [], False, False
    deadline = time.monotonic() + CELL_TIMEOUT_S
    while not (replied and idle):
        connection.settimeout(max(1.0, deadline - time.monotonic()))
        try:
            frame = connection.recv()
        except websocket.WebSocketTimeoutException:
            raise TimeoutError(f"a cell ran over {CELL_TIMEOUT_S} s:\n{code[:500]}") from None
        if not isinstance(frame, str):
            continue  # a message with binary buffers (a widget's picture): never an error
        reply = json.loads(frame)
        if reply.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, body = reply["header"]["msg_type"], reply["content"]
        if kind == "error":
            errors.append(f"{body['ename']}: {body['evalue']}")
        elif kind == "stream" and body.get("name") == "stderr" and re.search(r"Traceback|Error", body["text"]):
            errors.append(f"stderr: {body['text'][:2000]}")
        elif kind == "execute_reply":
            replied = True
            if body["status"] != "ok" and not errors:
                errors.append(f"{body['status']}: {body.get('ename')}: {body.get('evalue')}")
        elif kind == "status" and body["execution_state"] == "idle":
            idle = True
    return errors


def run_lessons(student: Student, link: str, only: list[str] | None = None, deadline: float | None = None):
    """Open the link, then run each lesson it pulled (or those named in ``only``), in order: {lesson: runs}."""
    folder = student.open_link(link).removeprefix("lab/tree/")
    names = sorted(item["name"] for item in student.api("GET", f"contents/{folder}")["content"])
    results = {}
    for name in [name for name in names if name.endswith(".ipynb") and (only is None or name in only)]:
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"{student.name} ran out of time before {name}")
        results[name] = student.run_notebook(f"{folder}/{name}")
    return results


def unexpected_errors(runs: list[CellRun]) -> list[str]:
    """Every error a student copy should not show: any at all outside an exercise, and any but "not written yet"."""
    return [
        f"cell {run.index}: {error}"
        for run in runs
        for error in run.errors
        if not (run.exercise and NOT_WRITTEN in error)
    ]


def unwritten_exercises(runs: list[CellRun]) -> int:
    """How many exercise cells said "not written yet" (every student copy has some)."""
    return sum(1 for run in runs if run.exercise and any(NOT_WRITTEN in error for error in run.errors))


def server_processes(hub: Hub) -> dict[str, list[psutil.Process]]:
    """Each student's server and its kernels, by the student's name (JUPYTERHUB_USER in the server's environment)."""
    found: dict[str, list[psutil.Process]] = {}
    for process in hub.processes():
        with contextlib.suppress(psutil.Error):
            if "jupyterhub.singleuser" in " ".join(process.cmdline()):
                name = process.environ().get("JUPYTERHUB_USER")
                if name:
                    found[name] = [process, *process.children(recursive=True)]
    return found
