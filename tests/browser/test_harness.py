"""The browser harness's recovery: after a lesson fails, the next one gets a fresh page (no browser needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import LessonPages, NotebookCopy


class FakePage:
    """Just enough of a Playwright page for NotebookPage.open(): a load that works or raises."""

    def __init__(self, loads: bool):
        self.loads, self.visited, self.closed = loads, [], False

    def on(self, event, handler) -> None:
        pass

    def goto(self, url: str) -> None:
        self.visited.append(url)
        if not self.loads:
            raise RuntimeError("net::ERR_CONNECTION_REFUSED")

    def wait_for_function(self, *args, **kwargs) -> None:
        pass  # the notebook is ready at once

    def close(self) -> None:
        self.closed = True


class FakeContext:
    def __init__(self, loads: list[bool]):
        self.loads, self.pages = list(loads), []

    def new_page(self) -> FakePage:
        self.pages.append(FakePage(self.loads.pop(0)))
        return self.pages[-1]


class FakeLab:
    def __init__(self):
        self.shutdowns: list[bool] = []

    def url(self, notebook: str, workspace: str) -> str:
        return f"lab/{workspace}/{notebook}"

    def shut_down_kernels(self, wait: bool = True) -> None:
        self.shutdowns.append(wait)


def notebook(name: str) -> NotebookCopy:
    return NotebookCopy(source=Path(name), path=Path("/lab") / name, cells=1)


def test_a_lesson_that_fails_leaves_a_fresh_page_for_the_next():
    context, lab = FakeContext([False, True]), FakeLab()
    pages = LessonPages(context, lab)
    with pytest.raises(RuntimeError, match="ERR_CONNECTION_REFUSED"), pages.open(notebook("01.ipynb")):
        pass
    first = context.pages[0]
    assert first.closed and pages.page is None  # the failed page is closed, not reused
    assert lab.shutdowns == [False]  # its kernels are stopped, without waiting
    with pages.open(notebook("02.ipynb")) as page:
        second = context.pages[1]
        assert page.page is second and second.visited[0].endswith("/02.ipynb") and not second.closed
    assert len(context.pages) == 2 and lab.shutdowns == [False]


def test_a_failure_inside_a_lesson_also_gives_up_its_page():
    context, lab = FakeContext([True, True]), FakeLab()
    pages = LessonPages(context, lab)
    with pytest.raises(AssertionError, match="a check failed"), pages.open(notebook("01.ipynb")):
        raise AssertionError("a check failed")
    assert context.pages[0].closed and pages.page is None and lab.shutdowns == [False]
    with pages.open(notebook("02.ipynb")) as page:
        assert page.page is context.pages[1]
