"""Every lesson as readers without a kernel see it: exported with ``jupyter nbconvert --to html`` and opened in
Chromium, every explorer's cell shows its picture (the PNG stored beside the widget view).

The page may load nothing but its own file (the export links MathJax and require.js from the web; a closed
network must not make the test wait). Screenshots of the explorers' cells go where the ``screenshots`` fixture
says (``<stem>-export-<n>.png``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from harness import lesson_notebooks, new_context

LESSONS = lesson_notebooks()
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CELLS = "body.jp-Notebook .jp-Cell.jp-Notebook-cell"  # one element per notebook cell in nbconvert's lab template

# true when an <img> has arrived and decoded into a picture
_JS_LOADED = "img => img.complete && img.naturalWidth > 0 && img.naturalHeight > 0"


def _explorer_cells(notebook: Path) -> list[int]:
    cells = json.loads(notebook.read_text())["cells"]
    return [i for i, cell in enumerate(cells) if any(WIDGET_VIEW in o.get("data", {}) for o in cell.get("outputs", []))]


def _export(notebook: Path, folder: Path) -> Path:
    """``jupyter nbconvert --to html``, the command a teacher types, from the environment running the tests."""
    jupyter = Path(sys.executable).parent / "jupyter"
    command = [str(jupyter), "nbconvert", "--to", "html", "--output-dir", str(folder), str(notebook)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"nbconvert failed on {notebook.name}:\n{done.stderr[-3000:]}"
    return folder / f"{notebook.stem}.html"


@pytest.mark.parametrize("source", LESSONS, ids=[p.stem for p in LESSONS])
def test_html_export_shows_every_explorer_picture(source, browser, tmp_path, screenshots):
    explorer_cells = _explorer_cells(source)
    html = _export(source, tmp_path)
    context = new_context(browser)
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    try:
        page = context.new_page()
        page.goto(html.as_uri())
        cells = page.locator(CELLS)
        assert cells.count() == len(json.loads(source.read_text())["cells"]), "the export has one element per cell"
        for n, index in enumerate(explorer_cells, 1):
            images = cells.nth(index).locator(".jp-OutputArea-output img")
            assert images.count() >= 1, f"{source.stem}: cell {index} (an explorer) shows no picture in the export"
            for image in (images.nth(i) for i in range(images.count())):
                image.scroll_into_view_if_needed()
                page.wait_for_function(_JS_LOADED, arg=image.element_handle(), timeout=30_000)
            shot = screenshots / f"{source.stem}-export-{n}.png"
            cells.nth(index).locator(".jp-OutputArea").screenshot(path=str(shot))
    finally:
        context.close()


def test_the_export_check_sees_an_explorer_without_its_picture(browser, tmp_path):
    """A widget view stored without its PNG exports as an empty output: the test above would fail on it."""
    notebook = json.loads(LESSONS[0].read_text())
    index = _explorer_cells(LESSONS[0])[0]
    for output in notebook["cells"][index]["outputs"]:
        output.get("data", {}).pop("image/png", None)
    bare = tmp_path / "bare" / LESSONS[0].name
    bare.parent.mkdir()
    bare.write_text(json.dumps(notebook))
    context = new_context(browser)
    try:
        page = context.new_page()
        page.goto(_export(bare, tmp_path).as_uri())
        assert (
            page.locator("body.jp-Notebook .jp-Cell.jp-Notebook-cell")
            .nth(index)
            .locator(".jp-OutputArea-output img")
            .count()
            == 0
        )
    finally:
        context.close()
