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


def _export(notebooks: list[Path], folder: Path) -> list[Path]:
    """``jupyter nbconvert --to html``, the command a teacher types, from the environment running the tests: one
    command for all the notebooks (nbconvert starts once)."""
    jupyter = Path(sys.executable).parent / "jupyter"
    command = [str(jupyter), "nbconvert", "--to", "html", "--output-dir", str(folder), *map(str, notebooks)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"nbconvert failed on {[n.name for n in notebooks]}:\n{done.stderr[-3000:]}"
    return [folder / f"{notebook.stem}.html" for notebook in notebooks]


def _without_pictures(notebook: Path, folder: Path) -> Path:
    """A copy of ``notebook`` whose first explorer's outputs lost their PNG (the widget view stored alone)."""
    content = json.loads(notebook.read_text())
    for output in content["cells"][_explorer_cells(notebook)[0]]["outputs"]:
        output.get("data", {}).pop("image/png", None)
    bare = folder / f"bare-{notebook.name}"
    bare.write_text(json.dumps(content))
    return bare


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[Path, Path]:
    """Every lesson's HTML export by lesson, and under ``"bare"`` that of lesson 01 without its first picture."""
    folder = tmp_path_factory.mktemp("exports")
    sources = [*LESSONS, _without_pictures(LESSONS[0], folder)]
    return dict(zip([*LESSONS, "bare"], _export(sources, folder), strict=True))


@pytest.mark.parametrize("source", LESSONS, ids=[p.stem for p in LESSONS])
def test_html_export_shows_every_explorer_picture(source, exported, browser, screenshots):
    explorer_cells = _explorer_cells(source)
    html = exported[source]
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


def test_the_export_check_sees_an_explorer_without_its_picture(exported, browser):
    """A widget view stored without its PNG exports as an empty output: the test above would fail on it."""
    index = _explorer_cells(LESSONS[0])[0]
    context = new_context(browser)
    try:
        page = context.new_page()
        page.goto(exported["bare"].as_uri())
        assert page.locator(CELLS).nth(index).locator(".jp-OutputArea-output img").count() == 0
        assert page.locator(CELLS).nth(index).locator(".jp-OutputArea-output").count() >= 1  # the output is there
    finally:
        context.close()
