"""Each lesson as a slide deck: slideshow marks derived from the lesson's structure, decks built by nbconvert.

:func:`slide_types` reads a lesson's cells and says how each one is presented (Jupyter's ``slideshow`` cell
metadata, which ``jupyter nbconvert --to slides`` and live-slide extensions read):

- a Markdown cell with a ``#`` or ``##`` heading starts a **slide** (the title, each numbered section);
- a Markdown cell with a ``###`` (or deeper) heading starts a **subslide** (below its section's slide);
- a Markdown cell without a heading that follows a code cell starts a **subslide** too: the next step of the
  section, its text then its code;
- a code cell is a **fragment**: its code and output appear on the next click, after the text that sets it up;
- the code cells before the first section (imports, seeds: the set-up) are skipped;
- a solution cell (tagged ``solution``) goes to the speaker **notes**: the exercise stays on the slide, its
  solution in the presenter's view;
- anything else (Markdown after Markdown) continues the slide it is on.

:func:`mark_notebook` writes those marks into a notebook (a dict), :func:`mark_script` into a lesson's jupytext
script (the ``# %%`` header lines carry them), :func:`mark_lessons` into ``notebooks/NN-name.py`` and ``.ipynb``
together (``cnn-lessons mark-slides``), so that the pair keeps agreeing. :func:`build_decks` writes one reveal.js
deck per lesson with nbconvert from marked copies, whether the lessons are marked yet or not
(``cnn-lessons slides``, ``make slides``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import jupytext

__all__ = [
    "SLIDE_TYPES",
    "slide_types",
    "mark_notebook",
    "mark_script",
    "mark_lessons",
    "LIBRARIES",
    "library_urls",
    "build_decks",
]

SLIDE_TYPES = ("slide", "subslide", "fragment", "-", "skip", "notes")
"""Jupyter's slide types; ``-`` continues the current slide (a cell without a mark is presented the same way)."""

_HEADING = re.compile(r"^(#{1,6})\s+\S", re.M)
_FENCE = re.compile(r"^```.*?^```", re.M | re.S)  # a '#' line inside a fenced code block is no heading


def _heading_level(markdown: str) -> int | None:
    """The highest level (fewest '#') of the Markdown headings in ``markdown``; None if there is none."""
    levels = [len(match.group(1)) for match in _HEADING.finditer(_FENCE.sub("", markdown))]
    return min(levels) if levels else None


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def slide_types(cells: Sequence[dict]) -> list[str]:
    """How each of ``cells`` (notebook cells: ``cell_type``, ``source``, ``metadata``) is presented; see the module."""
    types, previous, in_title = [], None, True
    for cell in cells:
        kind = cell.get("cell_type")
        level = _heading_level(_source(cell)) if kind == "markdown" else None
        if level is not None and level <= 2:
            slide_type = "slide"
            in_title = in_title and level == 1
        elif level is not None:
            slide_type = "subslide"
        elif kind == "markdown":
            slide_type = "subslide" if previous == "code" else "-"
        elif "solution" in cell.get("metadata", {}).get("tags", []):
            slide_type = "notes"
        elif kind == "code":
            slide_type = "skip" if in_title else "fragment"
        else:  # a raw cell: shown where it stands
            slide_type = "-"
        types.append(slide_type)
        previous = kind
    return types


def _set_marks(cells) -> int:
    """Write :func:`slide_types` into each cell's metadata (``-`` as no mark); returns how many cells changed."""
    changed = 0
    for cell, slide_type in zip(cells, slide_types(cells), strict=True):
        metadata = cell.setdefault("metadata", {})
        before = metadata.get("slideshow")
        if slide_type == "-":
            metadata.pop("slideshow", None)
        else:
            metadata["slideshow"] = {"slide_type": slide_type}
        ordered = sorted(metadata.items())  # as the .ipynb stores them, so that its pair's header lines agree
        metadata.clear()
        metadata.update(ordered)
        changed += metadata.get("slideshow") != before
    return changed


def mark_notebook(notebook: dict) -> dict:
    """``notebook`` (a dict as ``json.load`` gives it) with every cell's slideshow mark set; changed in place."""
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ValueError("not a Jupyter notebook: it has no list of cells")
    _set_marks(notebook["cells"])
    return notebook


def mark_script(text: str) -> str:
    """A lesson's jupytext percent script with every cell's slideshow mark in its ``# %%`` header line."""
    notebook = jupytext.reads(text, fmt="py:percent")
    _set_marks(notebook.cells)
    return jupytext.writes(notebook, fmt="py:percent")


def _notebook_text(notebook: dict) -> str:
    """A notebook as Jupyter writes it (nbformat's layout: indent 1, sorted keys, a final newline)."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def mark_lessons(folder, check: bool = False) -> list[Path]:
    """Mark every lesson in ``folder`` (``NN-name.py`` and its ``NN-name.ipynb``); returns the files that changed.

    Only the marks change: the outputs stay, nothing is run, the pair keeps agreeing. With ``check``, nothing is
    written: the files that would change are returned.
    """
    scripts = sorted(Path(folder).glob("[0-9][0-9]-*.py"))
    if not scripts:
        raise FileNotFoundError(f"no lessons (NN-name.py) in {folder}")
    changed = []
    for script in scripts:
        pairs = [(script, script.read_text(encoding="utf-8"), mark_script)]
        notebook = script.with_suffix(".ipynb")
        if notebook.exists():
            pairs.append((notebook, notebook.read_text(encoding="utf-8"), _marked_notebook_text))
        for path, text, mark in pairs:
            marked = mark(text)
            if marked != text:
                changed.append(path)
                if not check:
                    path.write_text(marked, encoding="utf-8")
    return changed


def _marked_notebook_text(text: str) -> str:
    return _notebook_text(mark_notebook(json.loads(text)))


LIBRARIES = {
    "reveal_url_prefix": "lib/reveal.js",
    "require_js_url": "lib/requirejs/require.js",
    "jquery_url": "lib/jquery/dist/jquery.min.js",
}
"""Where a deck finds its scripts when ``make slides`` has fetched them beside it (``OUT/lib``), by the
nbconvert setting that names them (``SlidesExporter.<name>``)."""


def library_urls(out_dir) -> dict[str, str]:
    """:data:`LIBRARIES` if ``out_dir/lib`` holds them (then the decks open offline), else {} (nbconvert's CDNs)."""
    out = Path(out_dir)
    found = all((out / path).exists() for path in (LIBRARIES["reveal_url_prefix"] + "/dist/reveal.js",))
    found = found and all((out / LIBRARIES[name]).is_file() for name in ("require_js_url", "jquery_url"))
    return dict(LIBRARIES) if found else {}


def build_decks(lessons: Sequence[Path], out_dir, urls: dict[str, str] | None = None, timeout: int = 300) -> list[Path]:
    """One reveal.js deck per lesson (``OUT/NN-name.slides.html``), by ``jupyter nbconvert --to slides``.

    Each lesson is marked on a copy (:func:`mark_notebook`), so the decks look the same before and after the
    lessons themselves carry the marks. ``urls``: nbconvert settings for the scripts (default
    :func:`library_urls`); long slides scroll.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    urls = library_urls(out) if urls is None else urls
    settings = [f"--SlidesExporter.{name}={value}" for name, value in urls.items()]
    jupyter = Path(sys.executable).parent / "jupyter"
    decks = []
    with tempfile.TemporaryDirectory() as scratch:
        copies = []
        for lesson in lessons:
            copy = Path(scratch) / Path(lesson).name
            copy.write_text(_marked_notebook_text(Path(lesson).read_text(encoding="utf-8")), encoding="utf-8")
            copies.append(copy)
        command = [str(jupyter), "nbconvert", "--to", "slides", "--output-dir", str(out), "--log-level", "WARN"]
        command += ["--SlidesExporter.reveal_scroll=True", *settings, *map(str, copies)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"jupyter nbconvert --to slides failed:\n{done.stderr[-3000:]}")
        decks = [out / f"{copy.stem}.slides.html" for copy in copies]
    return decks
