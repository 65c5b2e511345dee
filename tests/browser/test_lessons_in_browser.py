"""Every lesson, run in a real browser: JupyterLab + headless Chromium, cells run from the Run menu and every
explorer moved with the keyboard.

For each notebook in ``notebooks/`` (found by glob): open a copy (the first of a module by its URL in a fresh
browser context and workspace, each next one in the same page from File > Open from Path..., after the last is saved
and closed: JupyterLab starts once per module), Run All Cells, wait until the kernel is idle and every code cell has
its execution count, and check that no output is an error (tracebacks, error text on stderr, "Error displaying
widget") and that every explorer paints its ipympl canvas, and that axe-core finds no serious or critical
accessibility violation in what the lesson renders. Then reach each explorer's main control with the Tab key and
change it with the keyboard (a slider with an arrow key, a dropdown with Space, an arrow and Enter): the readout
must show the new value, the canvas pixels must change, nothing may land in JupyterLab's log console (where
errors raised in widget callbacks go), and the page may fetch no tab icon (the lessons' settings turn the busy
icon off: jupyter-config/README.md). A screenshot of each explorer is saved as
``<notebook-stem>-<explorer-index>.png`` where the ``screenshots`` fixture says (a temporary folder; ``make
screenshots`` refreshes assets/screenshots).

All waits are readiness conditions with generous timeouts (2 shared cores), never fixed sleeps. This module
runs the odd-numbered lessons, ``test_more_lessons_in_browser.py`` the others with the same check: ``--dist
loadscope`` gives each module to one pytest-xdist worker, so the two halves run at once, each worker with its
own JupyterLab, the lessons of a half one after another.
"""

from __future__ import annotations

import re

import pytest
from harness import (
    REDRAW_TIMEOUT_MS,
    SLIDER_HANDLE,
    SLIDER_READOUT,
    NotebookPage,
    chromium_missing_reason,
    copy_notebook,
    lesson_notebooks,
    main_control,
    require_browser,
    save_screenshot,
    scratch_notebook,
    serious_violations,
    tab_to,
)

LESSONS = lesson_notebooks()
HALVES = LESSONS[0::2], LESSONS[1::2]  # this module's lessons, and test_more_lessons_in_browser.py's

# axe-core's serious and critical findings in JupyterLab's own interface, out of this project's hands
JUPYTERLAB_VIOLATIONS = {
    "aria-allowed-attr": "toolbar buttons (jp-button: Upload Files, the file filter, the debugger) carry ARIA "
    "attributes their role does not allow",
    "aria-input-field-name": "CodeMirror's cell editors (role=textbox) have no accessible name",
    "aria-required-children": "the notebook's windowed list (role=list) holds cells that are not list items",
    "button-name": "the collapse-heading buttons beside headings have no text",
    "scrollable-region-focusable": "CodeMirror's scroller (.cm-scroller) of a code cell wider than the page "
    "scrolls, but it is the editor inside it that takes the focus",
}
# in the lessons' outputs, but drawn by a library, not by the lessons: (rule, element) -> reason
RENDERER_VIOLATIONS = {
    ("image-alt", ".jp-RenderedImage img"): "JupyterLab's image renderer sets no alt text on image outputs (it "
    "reads none from the output; each figure is described by the text around it)",
    ("aria-input-field-name", ".noUi-handle"): "ipywidgets' slider handle (noUiSlider, role=slider) is not "
    "linked to the slider's description label",
}


def test_chromium_is_available():
    """Says plainly why the browser tests skip; fails when CNN_LESSONS_BROWSER=required and there is none."""
    require_browser()
    assert chromium_missing_reason() is None


def _run(page: NotebookPage) -> None:
    page.run_all()
    errors = page.errors()
    assert not errors, f"{page.notebook.stem}: error output after Run All Cells:\n" + "\n\n".join(errors)
    missing = page.unexecuted_cells()
    assert not missing, f"{page.notebook.stem}: code cells {missing} have no execution count: {page.prompts()}"


def _move(page: NotebookPage, explorer, label: str) -> str:
    """Tab to the explorer's main control and change it with the keyboard: a slider with the arrow keys, a
    dropdown the way a keyboard opens one (Space, an arrow, Enter; a bare arrow key on a focused <select> is
    JupyterLab's: it moves the cell selection in command mode)."""
    from playwright.sync_api import expect

    kind, control = main_control(explorer)
    assert kind is not None, f"{label}: no slider or dropdown to move"
    before = page.canvas_data(explorer)
    tab_to(page.page, explorer, control)
    if kind == "slider":
        value = round(float(control.get_attribute("aria-valuenow")))
        top = round(float(control.get_attribute("aria-valuemax")))
        key, new = ("ArrowRight", value + 1) if value < top else ("ArrowLeft", value - 1)
        page.page.keyboard.press(key)
        readout = explorer.locator(SLIDER_READOUT).first
        expect(readout).to_have_text(str(new), timeout=REDRAW_TIMEOUT_MS)
        expect(control).to_have_attribute("aria-valuenow", re.compile(rf"^{new}(\.0+)?$"), timeout=REDRAW_TIMEOUT_MS)
        moved = f"slider {value} -> {new} ({key})"
    else:
        options = control.locator("option").evaluate_all("os => os.map(o => o.value)")
        value = control.input_value()
        last = options.index(value) == len(options) - 1
        key, new = ("ArrowUp", options[-2]) if last else ("ArrowDown", options[options.index(value) + 1])
        for press in ("Space", key, "Enter"):
            page.page.keyboard.press(press)
        expect(control).to_have_value(new, timeout=REDRAW_TIMEOUT_MS)
        moved = f"dropdown {value!r} -> {new!r} (Space, {key}, Enter)"
    page.wait_canvas_changed(explorer, before)
    return moved


def _check_accessibility(page: NotebookPage) -> None:
    """No serious or critical axe-core violation in what the lesson renders; JupyterLab's own are the known ones
    (checked on the first lesson's whole page: JupyterLab's interface is the same around every lesson)."""
    found = serious_violations(page.page, RENDERER_VIOLATIONS, whole_page=page.notebook.source == LESSONS[0])
    assert not found["lesson"], f"{page.notebook.stem}: accessibility violations in the lesson: {found['lesson']}"
    new = set(found["jupyterlab"]) - set(JUPYTERLAB_VIOLATIONS)
    assert not new, f"{page.notebook.stem}: JupyterLab shows violations not known here: " + str(
        {rule: found["jupyterlab"][rule] for rule in new}
    )


@pytest.mark.parametrize("source", HALVES[0], ids=[p.stem for p in HALVES[0]])
def test_lesson_runs_in_jupyterlab_and_its_explorers_respond(source, lab, lesson_pages, screenshots):
    check_lesson(source, lab, lesson_pages, screenshots)


def check_lesson(source, lab, pages, screenshots) -> None:
    """Run All in JupyterLab, every explorer painted and moved by keyboard, no error, log entry or axe finding.
    The lessons of a module share one JupyterLab page (``pages``), each opened in place of the last."""
    notebook = copy_notebook(source, lab.root)  # a copy: nothing the browser does reaches notebooks/
    with pages.open(notebook) as page:
        _check(page, screenshots)


def _check(page: NotebookPage, screenshots) -> None:
    notebook = page.notebook
    _run(page)

    explorers = page.explorers()
    for explorer in explorers:
        page.wait_painted(explorer)  # every explorer renders a canvas with a picture on it
    logged = page.log_entries()
    assert logged == 0, f"{notebook.stem}: the log console has {logged} entries:\n{page.log_text()}"
    _check_accessibility(page)

    requested: list[str] = []

    def note(request) -> None:
        requested.append(request.url)

    page.page.on("request", note)
    for index, explorer in enumerate(explorers, 1):
        label = f"{notebook.stem} explorer {index}"
        _move(page, explorer, label)
        save_screenshot(explorer, screenshots / f"{notebook.stem}-{index}.png")
    page.page.remove_listener("request", note)
    # the busy tab icon is off (jupyter-config/): a step used to fetch it from the server, costing every step
    icons = [url for url in requested if "favicon" in url]
    assert not icons, f"{notebook.stem}: moving the explorers fetched tab icons: {icons}"

    page.wait_idle()
    errors = page.errors()
    assert not errors, f"{notebook.stem}: error output after moving the explorers:\n" + "\n\n".join(errors)
    logged = page.log_entries()
    assert logged == 0, f"{notebook.stem}: moving the explorers logged {logged} entries:\n{page.log_text()}"
    assert not page.page_errors, f"{notebook.stem}: uncaught errors in the page: {page.page_errors}"


def test_the_checks_see_errors(lab, context):
    """The selectors above are not vacuous: a traceback, a skipped cell, a failing callback and a link without text
    in an output are all caught."""
    notebook = scratch_notebook(
        lab.root,
        "zz-self-check.ipynb",
        [
            "import ipywidgets as w\n"
            "s = w.IntSlider()\n"
            "def boom(change):\n"
            "    raise RuntimeError('callback boom')\n"
            "s.observe(boom, 'value')\n"
            "s",
            "from IPython.display import HTML\n"
            "HTML('<a href=\"#top\"></a>')",  # a link with no text: axe-core's link-name (serious)
            "1 / 0",
            "print('never runs')",
        ],
    )
    page = NotebookPage(context, lab, notebook).open()
    page.run_all()
    assert any("ZeroDivisionError" in e and "Traceback" in e for e in page.errors())
    assert page.unexecuted_cells() == [3]
    found = serious_violations(page.page, RENDERER_VIOLATIONS, whole_page=False)
    assert list(found["lesson"]) == ["link-name"] and found["jupyterlab"] == {}, found
    assert list(found["renderer"]) == ["aria-input-field-name"], found  # the slider's handle
    page.page.locator(SLIDER_HANDLE).first.focus()
    page.page.keyboard.press("ArrowRight")
    page.page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-LogConsoleStatusItem [title]')]"
        ".some(e => /[1-9]\\d* log entr/.test(e.title))",
        timeout=REDRAW_TIMEOUT_MS,
    )
    assert page.log_entries() >= 1
    assert "callback boom" in page.log_text()
