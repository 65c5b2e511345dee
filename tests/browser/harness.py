"""JupyterLab on copies of the lessons, driven by headless Chromium (Playwright's sync API).

Shared by the browser tests (``tests/browser``) and ``benchmarks/browser_latency.py``.

- :func:`running_lab` starts JupyterLab the way ``make lab`` does (``cnn-lessons lab --port P --no-browser``,
  the token in ``JUPYTER_TOKEN``) on a temporary folder of notebook copies, with test-only settings: its own
  config, settings and workspaces folders, an ``overrides.json`` that turns off the news pop-up, autosave and
  windowing (every cell stays in the DOM), and the extension manager. It waits for ``/api/status``.
- :func:`launch_chromium` starts Debian's Chromium (``/usr/bin/chromium``) with flags that keep it off the
  network; Playwright's own browser download is not used.
- :class:`NotebookPage` opens one notebook in a fresh workspace, runs every cell from the Run menu and waits
  for readiness conditions (cells rendered, kernel idle, an execution count on every code cell, canvases
  painted), never for a fixed time; it collects error outputs and finds the explorers.

An explorer is an output whose widget box holds an ipympl canvas. Selectors (ipywidgets 8, ipympl 0.10):
``.jp-OutputArea-output:has(.jupyter-matplotlib)`` is the output; its canvas is the first ``canvas`` in
``.jupyter-matplotlib-canvas-div`` (the second one is ipympl's rubber band); its main control is the first
slider handle ``.widget-slider .noUi-handle`` (``role="slider"``, keyboard-operable, readout
``.widget-readout``), or, without a slider, the first ``.widget-dropdown select``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = REPO / "notebooks"

CHROMIUM = Path(os.environ.get("CNN_LESSONS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # without these Chromium keeps trying to reach Google's servers, which floods a closed network
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    "install Debian's Chromium as root with `apt-get update && apt-get install chromium` "
    "(it lands at /usr/bin/chromium; Playwright's own browser download is not used)"
)
VIEWPORT = {"width": 1400, "height": 1000}

# generous: the machines running this have 2 cores shared with the rest of `make test`
SERVER_TIMEOUT_S = 120
PAGE_TIMEOUT_MS = 120_000
RUN_ALL_TIMEOUT_MS = 600_000
REDRAW_TIMEOUT_MS = 60_000

# test-only JupyterLab settings (overrides.json in a temporary app settings folder)
# JupyterLab's own setting, windowingMode "contentVisibility", leaves the browser to skip drawing cells out of
# view; the tests attach and draw every cell ("none") so that every prompt and output can be read
SETTINGS_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    "@jupyterlab/extensionmanager-extension:plugin": {"enabled": False},
}


def lesson_notebooks() -> list[Path]:
    """Every lesson notebook in ``notebooks/``, in order."""
    return sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


def chromium_missing_reason() -> str | None:
    """Why the browser tests cannot run here (``None`` when they can)."""
    if not CHROMIUM.exists():
        return f"Chromium not found at {CHROMIUM}; {INSTALL_HINT}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed; run `make test` (it installs requirements/test.txt)"
    return None


def browser_required() -> bool:
    """``CNN_LESSONS_BROWSER=required`` (CI): a missing browser is a failure, not a skip."""
    return os.environ.get("CNN_LESSONS_BROWSER", "").strip().lower() == "required"


def require_browser() -> None:
    """In a test or fixture: skip when Chromium or Playwright is missing, or fail when it is required."""
    import pytest

    reason = chromium_missing_reason()
    if reason is None:
        return
    if browser_required():
        pytest.fail(f"CNN_LESSONS_BROWSER=required, but {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason} (CNN_LESSONS_BROWSER=required makes this a failure)")


# --- notebook copies -----------------------------------------------------------------------------------------


@dataclass
class NotebookCopy:
    """A lesson copied (outputs, execution counts and saved widget state stripped) into the lab's folder."""

    source: Path
    path: Path
    cells: int  # how many cells JupyterLab should render
    code_cells: list[bool] = field(default_factory=list)  # per code cell: does Run All give it a count

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def stem(self) -> str:
        return self.source.stem


def copy_notebook(source: Path, folder: Path, name: str | None = None, extra_cells=()) -> NotebookCopy:
    """Write ``source`` into ``folder`` without outputs, so a fresh run is the only thing on the page.

    ``extra_cells``: code to append as cells (the benchmark's baselines); the lesson itself is never touched.
    """
    notebook = json.loads(Path(source).read_text(encoding="utf-8"))
    notebook.get("metadata", {}).pop("widgets", None)
    notebook["cells"] += [
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": code}
        for code in extra_cells
    ]
    code_cells = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
            source_text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            code_cells.append(bool(source_text.strip()))  # JupyterLab does not send empty cells to the kernel
    path = Path(folder) / (name or Path(source).name)
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return NotebookCopy(Path(source), path, len(notebook["cells"]), code_cells)


def scratch_notebook(folder: Path, name: str, sources: list[str]) -> NotebookCopy:
    """A notebook of code cells (for baselines and self-checks), written into ``folder``."""
    notebook = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
            for source in sources
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = Path(folder) / name
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return copy_notebook(path, folder, name)


# --- the server ----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cnn_lessons_command() -> str:
    """The project's ``cnn-lessons`` script, next to the running Python (the .venv's, under make)."""
    script = Path(sys.executable).parent / "cnn-lessons"
    if script.exists():
        return str(script)
    found = shutil.which("cnn-lessons")
    if found is None:
        raise RuntimeError("cnn-lessons is not installed next to this Python; run `make lab` or `make test`")
    return found


@dataclass
class Lab:
    """A running JupyterLab: its base URL, token and folder of notebooks."""

    base: str
    token: str
    root: Path
    process: subprocess.Popen
    log: Path
    stopping: list[threading.Thread] = field(default_factory=list)  # shutdowns still under way (see below)

    def url(self, notebook: str, workspace: str) -> str:
        """The URL that opens ``notebook`` in a fresh (reset) workspace of its own."""
        return f"{self.base}/lab/workspaces/{workspace}/tree/{notebook}?reset&token={self.token}"

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(
            f"{self.base}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read().decode()
        return json.loads(body) if body else None

    def shut_down_kernels(self, wait: bool = True) -> None:
        """Stop every kernel running now (each notebook test leaves one running; 2 cores cannot carry them all).

        ``wait=False``: the graceful shutdowns (about 2 s each, mostly waiting) go on in a thread while the next
        test starts; they stop only the kernels listed now, never the next test's."""
        paths = [f"/api/sessions/{session['id']}" for session in self.api("/api/sessions")]
        paths += [f"/api/kernels/{kernel['id']}" for kernel in self.api("/api/kernels")]

        def stop() -> None:
            for path in paths:
                with contextlib.suppress(urllib.error.URLError):  # 404 too: a session's kernel goes with it
                    self.api(path, method="DELETE")

        if wait:
            for thread in self.stopping:
                thread.join()
            stop()
        else:
            self.stopping.append(threading.Thread(target=stop, daemon=True))
            self.stopping[-1].start()

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def _status_ok(base: str, token: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=10) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


@contextlib.contextmanager
def running_lab(notebook_dir: Path, work_dir: Path | None = None, overrides: dict | None = None) -> Iterator[Lab]:
    """Run ``cnn-lessons lab`` on ``notebook_dir`` (a folder of copies) until the ``with`` block ends.

    ``overrides``: JupyterLab settings to use instead of :data:`SETTINGS_OVERRIDES`."""
    with contextlib.ExitStack() as stack:
        if work_dir is None:
            work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cnn-lessons-lab-")))
        work_dir = Path(work_dir)
        config_dir, app_settings = work_dir / "config", work_dir / "app-settings"
        for folder in (config_dir, app_settings, work_dir / "user-settings", work_dir / "workspaces"):
            folder.mkdir(parents=True, exist_ok=True)
        (config_dir / "jupyter_lab_config.json").write_text(
            json.dumps({"LabApp": {"app_settings_dir": str(app_settings)}}), encoding="utf-8"
        )
        (app_settings / "overrides.json").write_text(
            json.dumps(SETTINGS_OVERRIDES if overrides is None else overrides, indent=1), encoding="utf-8"
        )

        port, token = free_port(), secrets.token_hex(16)
        env = dict(
            os.environ,
            JUPYTER_TOKEN=token,
            JUPYTER_CONFIG_DIR=str(config_dir),
            JUPYTERLAB_SETTINGS_DIR=str(work_dir / "user-settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(work_dir / "workspaces"),
            JUPYTER_RUNTIME_DIR=str(work_dir / "runtime"),
        )
        command = [cnn_lessons_command(), "lab", "--port", str(port), "--no-browser"]
        command += ["--notebook-dir", str(notebook_dir)]
        log = work_dir / "lab.log"
        with open(log, "w") as log_file:
            process = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        lab = Lab(f"http://127.0.0.1:{port}", token, Path(notebook_dir), process, log)
        try:
            deadline = time.monotonic() + SERVER_TIMEOUT_S
            while not _status_ok(lab.base, token):
                try:  # waits for the process to exit, at most a quarter second: no blind sleeping
                    code = process.wait(timeout=0.25)
                except subprocess.TimeoutExpired:
                    code = None
                if code is not None:
                    raise RuntimeError(f"cnn-lessons lab exited with {code}:\n{lab.log_tail()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not answer in {SERVER_TIMEOUT_S} s:\n{lab.log_tail()}")
            yield lab
        finally:
            with contextlib.suppress(Exception):
                if process.poll() is None:
                    lab.shut_down_kernels()
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


# --- the browser ---------------------------------------------------------------------------------------------


def launch_chromium(playwright):
    """Headless Debian Chromium through Playwright."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


def new_context(browser):
    """A fresh browser context (no cookies, storage or cache shared with other notebooks)."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    return context


# in-page helpers (JavaScript)
_JS_READY = r"""(n) => {
  if (document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell').length !== n) return false;
  if (document.querySelector('.jp-Dialog')) return false;
  return [...document.querySelectorAll('#jp-main-statusbar .jp-StatusBar-TextItem')]
    .some(e => /\|\s*Idle$/.test(e.textContent.trim()));
}"""

_JS_SAVED = "() => !document.querySelector('.jp-NotebookPanel.jp-mod-dirty, .lm-TabBar-tab.jp-mod-dirty')"
_JS_CLOSED = "() => !document.querySelector('.jp-NotebookPanel') && !document.querySelector('.jp-Dialog')"

_JS_PROMPTS = r"""() => [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-CodeCell')]
  .map(c => (c.querySelector('.jp-InputPrompt') || {textContent: ''}).textContent.trim())"""

_JS_RUN_FINISHED = r"""(expected) => {
  const prompts = [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-CodeCell')]
    .map(c => (c.querySelector('.jp-InputPrompt') || {textContent: ''}).textContent);
  const idle = [...document.querySelectorAll('#jp-main-statusbar .jp-StatusBar-TextItem')]
    .some(e => /\|\s*Idle$/.test(e.textContent.trim()));
  if (!idle || prompts.some(p => p.includes('*'))) return false;
  const counted = prompts.length === expected.length && expected.every((e, i) => !e || /\[\d+\]/.test(prompts[i]));
  const failed = document.querySelector('.jp-Notebook [data-mime-type="application/vnd.jupyter.stderr"]');
  return counted || !!failed;   // a cell that raises stops Run All: report it instead of waiting forever
}"""

_JS_ERRORS = r"""() => {
  const found = [];
  const outputs = [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-OutputArea-output')];
  for (const el of outputs) {
    const text = el.innerText || '';
    const stderr = el.matches('[data-mime-type="application/vnd.jupyter.stderr"]')
      || el.querySelector('[data-mime-type="application/vnd.jupyter.stderr"]');
    if (stderr && /Traceback|Error/.test(text)) found.push('stderr: ' + text.slice(0, 3000));
    else if (el.querySelector('.jp-RenderedText') && /Traceback/.test(text)) found.push('text: ' + text.slice(0, 3000));
    if (text.includes('Error displaying widget')) found.push('widget: ' + text.slice(0, 500));
  }
  return found;
}"""

# a canvas shows a picture once it holds more than one colour (ipympl first clears it to the face colour)
_JS_PAINTED = r"""(canvas) => {
  if (!canvas || !canvas.width || !canvas.height) return false;
  const data = new Uint32Array(canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data.buffer);
  const first = data[0];
  for (let i = 1; i < data.length; i++) if (data[i] !== first) return true;
  return false;
}"""

_JS_DESCRIBE = r"""() => {
  const status = document.querySelector('#jp-main-statusbar');
  const dialog = document.querySelector('.jp-Dialog');
  const prompts = [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-CodeCell .jp-InputPrompt')]
    .map(p => p.textContent.trim());
  return 'cells rendered: ' + document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell').length
    + '; status bar: ' + (status ? status.innerText.replace(/\s+/g, ' ') : '(none)')
    + (dialog ? '; dialog: ' + dialog.innerText.replace(/\s+/g, ' ').slice(0, 300) : '')
    + '; prompts: ' + prompts.join(' ');
}"""

_JS_CHANGED = r"""([canvas, before]) => {
  const now = canvas.toDataURL();
  return now !== before;
}"""

EXPLORER = ".jp-NotebookPanel .jp-Notebook .jp-OutputArea-output:has(.jupyter-matplotlib)"
CANVAS = ".jupyter-matplotlib-canvas-div canvas"
SLIDER_HANDLE = ".widget-slider .noUi-handle"
SLIDER_READOUT = ".widget-slider .widget-readout"
DROPDOWN = ".widget-dropdown select"


class NotebookPage:
    """One notebook open in its own browser context and JupyterLab workspace."""

    def __init__(self, context, lab: Lab, notebook: NotebookCopy, workspace: str | None = None):
        self.context, self.lab, self.notebook = context, lab, notebook
        self.workspace = workspace or re.sub(r"[^A-Za-z0-9-]", "-", notebook.path.stem) + "-" + secrets.token_hex(4)
        self.page = context.new_page()
        self.page_errors: list[str] = []
        self.page.on("pageerror", self._on_page_error)

    def _on_page_error(self, error) -> None:
        text = str(error)
        if "ResizeObserver loop" not in text:  # Chromium's benign layout notice, not a fault
            self.page_errors.append(text)

    def _wait(self, script: str, arg, timeout_ms: int, what: str) -> None:
        """``wait_for_function`` that, on timeout, says what the page showed (and saves a screenshot)."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            # every 100 ms, not every animation frame: a check that reads a long notebook's DOM 60 times a
            # second takes the CPU that the kernel and the page need to finish what it waits for
            self.page.wait_for_function(script, arg=arg, timeout=timeout_ms, polling=100)
        except PlaywrightTimeout:
            shot = self.lab.root.parent / f"timeout-{self.workspace}.png"
            with contextlib.suppress(Exception):
                self.page.screenshot(path=str(shot))
            raise AssertionError(
                f"{self.notebook.name}: timed out after {timeout_ms / 1000:.0f} s waiting for {what}; "
                f"{self.describe()}; screenshot {shot}; server log tail:\n{self.lab.log_tail(1500)}"
            ) from None

    def describe(self) -> str:
        """The page's state in one line, for failure messages."""
        try:
            return self.page.evaluate(_JS_DESCRIBE)
        except Exception as error:  # the page itself may be gone
            return f"(page unreadable: {error})"

    def open(self) -> NotebookPage:
        """Load the notebook and wait until every cell is rendered and its kernel is idle."""
        self.page.goto(self.lab.url(self.notebook.name, self.workspace))
        self._wait(_JS_READY, self.notebook.cells, PAGE_TIMEOUT_MS, "the notebook to load with an idle kernel")
        return self

    def open_next(self, notebook: NotebookCopy) -> NotebookPage:
        """Close this notebook (saved first, so closing asks nothing) and open ``notebook`` in the same
        JupyterLab, the way a user does (File > Open from Path...): a second start of JupyterLab would cost the
        browser about 8 s of CPU. The closed notebook's kernel is shut down (without waiting), the next one's
        starts fresh."""
        self._menu("File", "docmanager:save")
        self._wait(_JS_SAVED, None, PAGE_TIMEOUT_MS, "the notebook to be saved")
        self._menu("File", "application:close-all")
        self._wait(_JS_CLOSED, None, PAGE_TIMEOUT_MS, "the notebook to close")
        self.lab.shut_down_kernels(wait=False)  # the closed notebook's (the next one's has not started yet)
        self.notebook, self.page_errors = notebook, []
        self._menu("File", "filebrowser:open-path")
        self.page.locator(".jp-Dialog input").fill(notebook.name)
        self.page.keyboard.press("Enter")
        self._wait(_JS_READY, notebook.cells, PAGE_TIMEOUT_MS, "the next notebook to open with an idle kernel")
        return self

    def _menu(self, menu: str, command: str) -> None:
        """Click ``menu`` in the menu bar, then its item that runs ``command`` (a JupyterLab command id)."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(rf"^{menu}$")).click()
        self.page.locator(f'.lm-Menu-item[data-command="{command}"]').click()

    def run_all(self) -> None:
        """Run > Run All Cells, then wait until the kernel is idle and every code cell has its count."""
        self._menu("Run", "runmenu:run-all")
        self._wait(_JS_RUN_FINISHED, self.notebook.code_cells, RUN_ALL_TIMEOUT_MS, "Run All Cells to finish")

    def prompts(self) -> list[str]:
        return self.page.evaluate(_JS_PROMPTS)

    def unexecuted_cells(self) -> list[int]:
        """Indices (among code cells) of non-empty code cells without an execution count."""
        prompts = self.prompts()
        return [
            i
            for i, expected in enumerate(self.notebook.code_cells)
            if expected and (i >= len(prompts) or not re.search(r"\[\d+\]", prompts[i]))
        ]

    def errors(self) -> list[str]:
        """Error outputs on the page: tracebacks, error text on stderr, widgets that failed to display."""
        return self.page.evaluate(_JS_ERRORS)

    def explorers(self):
        """Locators of the explorers (outputs whose widget box holds an ipympl canvas), in notebook order."""
        found = self.page.locator(EXPLORER)
        return [found.nth(i) for i in range(found.count())]

    def wait_painted(self, explorer, timeout_ms: int = REDRAW_TIMEOUT_MS) -> None:
        canvas = explorer.locator(CANVAS).first
        canvas.wait_for(state="attached", timeout=timeout_ms)
        self._wait(_JS_PAINTED, canvas.element_handle(), timeout_ms, "an explorer's canvas to show a picture")

    def canvas_data(self, explorer) -> str:
        return explorer.locator(CANVAS).first.evaluate("c => c.toDataURL()")

    def wait_canvas_changed(self, explorer, before: str, timeout_ms: int = REDRAW_TIMEOUT_MS) -> None:
        handle = explorer.locator(CANVAS).first.element_handle()
        self._wait(_JS_CHANGED, [handle, before], timeout_ms, "the canvas pixels to change")
        self._wait(_JS_PAINTED, handle, timeout_ms, "the changed canvas to show a picture")

    def log_entries(self) -> int:
        """How many entries JupyterLab's log console holds for this notebook (callback errors land there)."""
        titles = self.page.evaluate(
            "() => [...document.querySelectorAll('.jp-LogConsoleStatusItem [title]')].map(e => e.title)"
        )
        counts = [int(m.group(1)) for t in titles if (m := re.search(r"(\d+) log entr", t))]
        return max(counts, default=0)

    def log_text(self) -> str:
        """Open the log console and return what it shows (for failure messages)."""
        self.page.locator(".jp-LogConsoleStatusItem .jp-StatusBar-GroupItem[role=button]").first.click()
        panel = self.page.locator(".jp-LogConsolePanel").first
        panel.wait_for()
        return panel.inner_text()[:5000]

    def wait_idle(self, timeout_ms: int = PAGE_TIMEOUT_MS) -> None:
        self._wait(_JS_READY, self.notebook.cells, timeout_ms, "an idle kernel")

    def close(self) -> None:
        self.page.close()


class LessonPages:
    """Notebooks checked one after another in one JupyterLab page: the first opened by its URL, each next one in
    place of the last (:meth:`NotebookPage.open_next`). After a failure the next notebook gets a fresh page."""

    def __init__(self, context, lab: Lab):
        self.context, self.lab = context, lab
        self.page: NotebookPage | None = None

    @contextlib.contextmanager
    def open(self, notebook: NotebookCopy) -> Iterator[NotebookPage]:
        try:
            if self.page is None:
                self.page = NotebookPage(self.context, self.lab, notebook)  # kept first: a failed load closes it
                self.page.open()
            else:
                self.page.open_next(notebook)
            yield self.page
        except BaseException:
            if self.page is not None:
                self.page.close()
            self.page = None
            self.lab.shut_down_kernels(wait=False)
            raise


def main_control(explorer):
    """("slider", handle) or ("dropdown", select) or (None, None): the control the explorer is about."""
    handle = explorer.locator(SLIDER_HANDLE)
    if handle.count():
        return "slider", handle.first
    select = explorer.locator(DROPDOWN)
    if select.count():
        return "dropdown", select.first
    return None, None


def save_screenshot(explorer, path: Path) -> bool:
    """Screenshot ``explorer`` to ``path``; leave the file alone when the picture is byte-for-byte the same."""
    explorer.page.evaluate("() => document.activeElement && document.activeElement.blur()")
    explorer.scroll_into_view_if_needed()
    png = explorer.screenshot(animations="disabled", caret="hide")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_bytes() == png:
        return False
    path.write_bytes(png)
    return True


# --- accessibility (axe-core) ---------------------------------------------------------------------------------

LESSON_CONTENT = ".jp-OutputArea-output, .jp-MarkdownOutput"
"""What the lessons render on the page: their outputs and their rendered text."""

_JS_CLASSIFY = r"""([selectors, content, exempt]) => selectors.map(([rule, selector]) => {
  const el = document.querySelector(selector);
  if (!el) return 'gone';
  if (!el.closest(content)) return 'jupyterlab';
  return (exempt[rule] || []).some(s => el.matches(s)) ? 'renderer' : 'lesson';
})"""


def serious_violations(
    page, renderer_exempt: dict[tuple[str, str], str], whole_page: bool = True
) -> dict[str, dict[str, list[str]]]:
    """axe-core's serious and critical violations on the page, by where they are.

    Returns ``{"lesson": {rule: [html, ...]}, "renderer": {...}, "jupyterlab": {...}}``: in what the lessons
    render (their outputs and text), in those outputs but drawn by a library and listed in
    ``renderer_exempt`` (``(rule, css selector) -> reason``), and in JupyterLab's own interface.
    ``whole_page=False`` checks only what the lessons render: a third of the time of the whole page, whose
    JupyterLab parts are the same for every notebook ("jupyterlab" is then empty).
    """
    from axe_playwright_python.sync_playwright import Axe  # imported here: only the browser tests need axe

    context = None if whole_page else {"include": [[selector.strip()] for selector in LESSON_CONTENT.split(",")]}
    results = Axe().run(page, context=context, options={"resultTypes": ["violations"]}).response
    nodes = [
        (violation["id"], node)
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
        for node in violation["nodes"]
    ]
    exempt: dict[str, list[str]] = {}
    for rule, selector in renderer_exempt:
        exempt.setdefault(rule, []).append(selector)
    # one round trip for every node (a whole page has about a hundred)
    places = page.evaluate(_JS_CLASSIFY, [[[rule, node["target"][-1]] for rule, node in nodes], LESSON_CONTENT, exempt])
    found: dict[str, dict[str, list[str]]] = {"lesson": {}, "renderer": {}, "jupyterlab": {}}
    for (rule, node), where in zip(nodes, places, strict=True):
        if where != "gone":
            found[where].setdefault(rule, []).append(node["html"][:300])
    return found


def tab_to(page, explorer, control, limit: int = 30) -> int:
    """Press Tab from the start of ``explorer`` until ``control`` has the focus, as a keyboard user gets there.

    Returns how many presses it took; fails when ``limit`` presses never reach it (a control the keyboard skips).
    """
    explorer.evaluate("e => { e.tabIndex = -1; e.focus(); }")
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if control.evaluate("c => c === document.activeElement"):
            return presses
    focused = page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)")
    raise AssertionError(
        f"{limit} presses of Tab from the explorer's start never reached its control; focus: {focused}"
    )
