"""Each lesson as a reveal.js deck (``cnn-lessons slides``), opened in Chromium with the network cut off: reveal.js
starts, counts as many slides as the lesson's slide marks make, and every picture (the figures, the explorers'
PNGs) has loaded.

The decks' scripts come from ``build/slides/lib``, which ``make slides`` fetches from npm; without it these tests
skip (``make test-class``, which CI runs, fetches it first). ``make test`` opens the first lesson's deck (building a
deck takes nbconvert several seconds), ``make test-class`` (``CNN_LESSONS_DECKS=all``) every lesson's.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from harness import REPO, lesson_notebooks, new_context

from cnn_lessons import slides

LIB = REPO / "build" / "slides" / "lib"
LESSONS = lesson_notebooks() if os.environ.get("CNN_LESSONS_DECKS") == "all" else lesson_notebooks()[:1]
REVEAL = f"requirejs('{slides.LIBRARIES['reveal_url_prefix']}/dist/reveal.js')"  # reveal.js as require.js loaded it
# the <img> elements that have not arrived or do not decode into a picture
_JS_MISSING = "() => Array.from(document.images).filter(img => !(img.complete && img.naturalWidth > 0)).length"


def expected(notebook: Path) -> tuple[int, int]:
    """The slides (slides and sub-slides) the lesson's marks make, and the pictures of the cells shown."""
    cells = json.loads(notebook.read_text())["cells"]
    kinds = slides.slide_types(cells)
    count = sum(kind in ("slide", "subslide") for kind in kinds)
    pictures = sum(
        "image/png" in output.get("data", {})
        for cell, kind in zip(cells, kinds, strict=True)
        if kind != "skip"
        for output in cell.get("outputs", [])
    )
    return count, pictures


@pytest.fixture(scope="module")
def decks(tmp_path_factory) -> dict[str, Path]:
    if not slides.library_urls(LIB.parent):
        pytest.skip(f"the decks' scripts are not in {LIB}: `make slides` fetches them (make test-class runs this)")
    out = tmp_path_factory.mktemp("decks")
    (out / "lib").symlink_to(LIB, target_is_directory=True)
    built = slides.build_decks(LESSONS, out, slides.LIBRARIES)
    return {lesson.stem: deck for lesson, deck in zip(LESSONS, built, strict=True)}


def open_deck(browser, deck: Path):
    """A page showing ``deck`` that may load nothing but files, once reveal.js is ready; and the page's errors."""
    context = new_context(browser)
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(deck.as_uri())
    page.wait_for_selector(".reveal.ready", state="attached", timeout=60_000)
    return context, page, errors


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_the_deck_shows_every_slide_and_picture(lesson, decks, browser, screenshots):
    slide_count, pictures = expected(lesson)
    context, page, errors = open_deck(browser, decks[lesson.stem])
    try:
        assert page.evaluate(f"{REVEAL}.getTotalSlides()") == slide_count
        assert page.locator(".reveal .slides img").count() == pictures
        assert page.evaluate(_JS_MISSING) == 0, f"{lesson.stem}: pictures missing from the deck"
        page.evaluate(f"{REVEAL}.slide(1, 0)")  # the first section, as a teacher moves on from the title
        page.wait_for_function(f"() => {REVEAL}.getIndices().h === 1")
        page.screenshot(path=str(screenshots / f"{lesson.stem}-slide-1.png"))
        # the decks' formulas come from MathJax's CDN, which is cut off here: nothing else may fail
        assert [error for error in errors if "MathJax" not in error] == []
    finally:
        context.close()


def test_the_picture_check_sees_a_broken_picture(decks, browser, tmp_path):
    deck = next(iter(decks.values()))
    broken = deck.parent / "broken.slides.html"
    picture = re.compile(r'src="data:image/png;base64,[A-Za-z0-9+/=]+"')
    text, found = picture.subn('src="data:image/png;base64,AAAA"', deck.read_text(), count=1)
    assert found == 1
    broken.write_text(text)
    context, page, _ = open_deck(browser, broken)
    try:
        assert page.evaluate(_JS_MISSING) == 1
    finally:
        context.close()
