"""`make lab` serves the lessons on 127.0.0.1 with token authentication (started here the same way)."""

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cnn_lessons.cli import LAB_CONFIG_DIR, LESSONS_DIR, build_parser, lab_command, lab_environment


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


@pytest.fixture
def lab_server(tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_TOKEN=token, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    command = [str(Path(sys.executable).parent / "cnn-lessons"), "lab", "--port", str(port), "--no-browser"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"cnn-lessons lab exited with {server.returncode}: {server.stderr.read()[-2000:]}")
        try:
            if _get(f"{base}/api/status?token={token}")[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        server.terminate()
        pytest.fail("JupyterLab did not answer within 90 s")
    yield base, token
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def test_lab_serves_lessons_with_token_and_refuses_without(lab_server):
    base, token = lab_server
    status, body = _get(f"{base}/lab?token={token}")
    assert status == 200 and "JupyterLab" in body
    # the lessons' JupyterLab settings (jupyter-config/): the busy tab icon, fetched on every slider step, is off
    config = json.loads(re.search(r'id="jupyter-config-data" type="application/json">(.*?)</script>', body, re.S)[1])
    assert "@jupyterlab/application-extension:faviconbusy" in config["disabledExtensions"]
    assert _get(f"{base}/api/status")[0] == 403
    status, _ = _get(f"{base}/lab")
    assert status == 302  # to the login page, never the lab itself
    status, body = _get(f"{base}/api/contents?token={token}")
    assert status == 200 and "01-correlation-vs-convolution.ipynb" in body


def test_lab_defaults_are_safe():
    args = build_parser().parse_args(["lab"])
    argv = lab_command(Path(args.notebook_dir), args.ip, args.port)
    assert "--ServerApp.ip=127.0.0.1" in argv
    assert not any("token=" in a or "0.0.0.0" in a or "disable_check_xsrf" in a for a in argv)
    assert Path(args.notebook_dir) == LESSONS_DIR


def test_lab_explains_a_missing_folder(tmp_path, capsys):
    from cnn_lessons.cli import main

    assert main(["lab", "--notebook-dir", str(tmp_path / "nowhere")]) == 2
    assert "no folder" in capsys.readouterr().err


def test_lab_puts_the_lessons_settings_first_and_keeps_the_others():
    environ = {"JUPYTER_CONFIG_PATH": os.pathsep.join(["/site/jupyter", str(LAB_CONFIG_DIR)]), "HOME": "/home/x"}
    changed = lab_environment(environ)
    assert changed["JUPYTER_CONFIG_PATH"] == os.pathsep.join([str(LAB_CONFIG_DIR), "/site/jupyter"])
    assert changed["HOME"] == "/home/x" and environ["JUPYTER_CONFIG_PATH"].startswith("/site")  # a copy
    assert lab_environment({})["JUPYTER_CONFIG_PATH"] == str(LAB_CONFIG_DIR)
    page_config = json.loads((LAB_CONFIG_DIR / "labconfig" / "page_config.json").read_text())
    assert page_config == {"disabledExtensions": {"@jupyterlab/application-extension:faviconbusy": True}}
