"""Fixtures for the browser tests: headless Chromium and one JupyterLab for the whole session.

Without Chromium (``/usr/bin/chromium``) the browser tests skip, unless ``CNN_LESSONS_BROWSER=required`` (as
in CI, ``.ci/run``): then a missing browser fails them, with how to install it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from harness import LessonPages, launch_chromium, new_context, require_browser, running_lab


@pytest.fixture(scope="session")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def lab(browser, tmp_path_factory):
    """JupyterLab started like ``make lab`` on a temporary folder; tests copy notebooks into ``lab.root``."""
    work = tmp_path_factory.mktemp("lab")
    notebooks = work / "notebooks"
    notebooks.mkdir()
    with running_lab(notebooks, work) as server:
        yield server


@pytest.fixture
def context(browser, lab):
    """A fresh browser context per test; the test's kernels are shut down afterwards (without waiting)."""
    ctx = new_context(browser)
    yield ctx
    ctx.close()
    lab.shut_down_kernels(wait=False)


@pytest.fixture(scope="module")
def lesson_pages(browser, lab):
    """One JupyterLab page for a module's lessons, each opened in place of the last (harness.LessonPages)."""
    ctx = new_context(browser)
    yield LessonPages(ctx, lab)
    ctx.close()
    lab.shut_down_kernels(wait=False)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where the browser tests save screenshots: a temporary folder, so that a test run leaves the repository
    as it was, unless ``CNN_LESSONS_SCREENSHOTS`` names one (``make screenshots`` points it at
    assets/screenshots, to refresh the README's pictures on purpose)."""
    chosen = os.environ.get("CNN_LESSONS_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
