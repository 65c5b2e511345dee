"""What every explorer repeats: the ipympl canvas and its fast PNG frames, the backend guard, the widget
box, redraw, the re-entrancy guard, and the registry of explorer classes (:func:`registered`)."""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import itertools
import struct
import sys
import warnings
import zlib

import ipywidgets as widgets
import matplotlib
import matplotlib.figure
import numpy as np
import torch
from IPython import get_ipython
from matplotlib import rcsetup

from cnn_lessons.explorers import animation

__all__ = [
    "FRAME_PNG_COMPRESS_LEVEL",
    "frame_png",
    "Explorer",
    "ExplorerCanvas",
    "slider",
    "explorer_canvas",
    "Busy",
    "registered",
    "running_cell",
]


def _import_ipympl_keeping_backend():
    """Import ipympl's canvas without letting ``import ipympl`` switch pyplot to the widget backend.

    ipympl's ``__init__`` calls ``matplotlib.use("module://ipympl.backend_nbagg")`` when matplotlib is already
    imported; the lessons' static figures must stay on the inline backend (stored as PNGs), so restore it.
    """
    before = dict.__getitem__(matplotlib.rcParams, "backend")
    # imported here, between reading the backend and restoring it: importing ipympl changes it
    from ipympl.backend_nbagg import Canvas, FigureManager

    if dict.__getitem__(matplotlib.rcParams, "backend") != before:
        if before is rcsetup._auto_backend_sentinel:
            dict.__setitem__(matplotlib.rcParams, "backend", before)
            if "matplotlib.pyplot" in sys.modules:
                sys.modules["matplotlib.pyplot"].switch_backend(before)
        else:
            matplotlib.use(before)
    return Canvas, FigureManager


Canvas, FigureManager = _import_ipympl_keeping_backend()


_figure_numbers = itertools.count(1)


FRAME_PNG_COMPRESS_LEVEL = 1
"""zlib level of the PNG frames an explorer's canvas sends (ipympl's default, through PIL, is 6)."""


def frame_png(rgba: np.ndarray, level: int | None = None) -> bytes:
    """An (H, W, 4) uint8 RGBA array as an unfiltered PNG, zlib ``level`` (default :data:`FRAME_PNG_COMPRESS_LEVEL`).

    PIL chooses a PNG filter for every row by trying all five, which costs more than the compression itself
    for a canvas frame (4 of 6 ms for a 669x312 frame at level 1) and gains nothing on a frame that is mostly
    flat colour or, for a diff frame, mostly transparent zeros. PIL has no option to skip it; a PNG written
    without filters (filter byte 0 on each row) is the PNG standard's simplest form and encodes in 30-40% of
    the time, at about the same size.
    """
    level = FRAME_PNG_COMPRESS_LEVEL if level is None else level
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    if rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError(f"frame_png needs an (H, W, 4) RGBA array, got shape {rgba.shape}")
    height, width = rgba.shape[:2]
    rows = np.zeros((height, 1 + 4 * width), np.uint8)  # filter type 0 ("None") then the row's pixels
    rows[:, 1:] = rgba.reshape(height, 4 * width)

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits per channel, RGBA, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.data, level))
        + chunk(b"IEND", b"")
    )


class ExplorerCanvas(Canvas):
    """ipympl's canvas, sending its frames as faster-encoded PNGs.

    For every frame ipympl compares the new picture with the last one and sends a PNG of the pixels that
    changed (the rest transparent). Encoding that PNG through PIL at zlib's default level is often the largest
    part of a slider step (a filtered photo: 13 of 25 ms). :func:`frame_png` encodes it two to three times as
    fast (no row filters, zlib level 1) for frames about as large, which costs nothing on the local connection
    between kernel and browser. The frame is otherwise exactly matplotlib's
    (``FigureCanvasWebAggCore.get_diff_image``, whose only change here is the encoder): a full frame when the
    size changed, a resize or refresh asked for one, or the picture has transparent pixels (which could not
    be laid over the last frame); else the changed pixels.
    """

    def get_diff_image(self) -> bytes | None:
        if not self._png_is_old:
            return None
        pixels = np.asarray(self.get_renderer().buffer_rgba())
        buffer = pixels.view(np.uint32).squeeze(2)  # one uint32 per pixel: compared in one numpy call
        if self._force_full or buffer.shape != self._last_buff.shape or (pixels[:, :, 3] != 255).any():
            self.set_image_mode("full")
            output = buffer
        else:
            self.set_image_mode("diff")
            output = np.where(buffer != self._last_buff, buffer, 0)
        self._last_buff = buffer.copy()
        self._force_full = False
        self._png_is_old = False
        return frame_png(output.view(np.uint8).reshape((*output.shape, 4)))


def explorer_canvas(fig: matplotlib.figure.Figure, *, toolbar_visible="fade-in-fade-out") -> ExplorerCanvas:
    """An ipympl canvas (an ipywidget) for ``fig``, with its own toolbar, for use inside a widget box.

    The figure gets a ``FigureManager`` with a fresh number (it is never registered with pyplot); header and
    footer are hidden and the canvas keeps the figure's size. Frames are sent as fast-encoded PNGs
    (:class:`ExplorerCanvas`).
    """
    canvas = ExplorerCanvas(fig)
    with warnings.catch_warnings():  # ipympl's Toolbar passes the canvas on to traitlets, which warns
        warnings.filterwarnings("ignore", "Passing unrecognized arguments", DeprecationWarning)
        FigureManager(canvas, next(_figure_numbers))  # sets canvas.manager and canvas.toolbar
    canvas.header_visible = False
    canvas.footer_visible = False
    canvas.toolbar_visible = toolbar_visible
    canvas.resizable = False
    return canvas


_REGISTRY: list[type[Explorer]] = []


# The explorers each cell's last run made, by cell id. ipywidgets keeps a widget alive until it is closed, so a class
# re-running cells would grow every kernel by megabytes a run; a cell run again closes what it made before.
_BY_CELL: dict[str, tuple[str, list[Explorer]]] = {}


def running_cell() -> tuple[str, str] | None:
    """(cell id, request id) of the cell the kernel runs now, when the front-end names its cells (JupyterLab does)."""
    kernel = getattr(get_ipython(), "kernel", None)
    if kernel is None:
        return None
    parent = kernel.get_parent("shell") or {}
    cell, request = parent.get("metadata", {}).get("cellId"), parent.get("header", {}).get("msg_id")
    return (cell, request) if cell and request else None


def _adopt(explorer: Explorer) -> None:
    """Remember ``explorer`` as made by the running cell, closing what an earlier run of that cell made."""
    run = running_cell()
    if run is None:
        return
    cell, request = run
    last, made = _BY_CELL.get(cell, (None, []))
    if last != request:
        for old in made:
            old.close()
        made = []
    _BY_CELL[cell] = (request, [*made, explorer])


def _reachable(roots) -> list[widgets.Widget]:
    """The widgets ``roots`` show, each once: children, toolbars, layouts and styles included."""
    found: dict[int, widgets.Widget] = {}
    stack = list(roots)
    while stack:
        widget = stack.pop()
        if not isinstance(widget, widgets.Widget) or id(widget) in found:
            continue
        found[id(widget)] = widget
        stack += [getattr(widget, name, None) for name in ("layout", "style", "toolbar")]
        stack += list(getattr(widget, "children", ()))
    return list(found.values())


def registered() -> list[type[Explorer]]:
    """Every explorer class defined so far (the lessons' and any other subclass of :class:`Explorer`), in order."""
    return list(_REGISTRY)


class Explorer:
    """What every explorer repeats: its canvas in a widget box, redraw, the re-entrancy guard, the registry.

    A subclass makes its controls, calls :meth:`_show` with its figure and the rows of controls above it, and
    :meth:`_watch` with its controls; a change of any of them runs :meth:`update` once (changes that
    ``update`` itself makes to other controls, such as a slider's new range, run nothing). ``update``
    recomputes the picture, updates the view's artists in place and calls :meth:`_redraw`. Defining the
    subclass (with its own ``update``) registers it (:func:`registered`): the latency benchmarks and the frame
    tests take every explorer from there.
    """

    box: widgets.Box
    canvas: ExplorerCanvas
    fig: matplotlib.figure.Figure

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.update is not Explorer.update:  # a class that can draw (not an abstract intermediate)
            _REGISTRY.append(cls)

    def _show(self, fig: matplotlib.figure.Figure, *rows: widgets.Widget, below=(), toolbar_visible=False) -> None:
        """Put ``fig`` on an explorer canvas in :attr:`box`, after ``rows`` (widgets, one per row), before ``below``."""
        self.fig = fig
        self.canvas = explorer_canvas(fig, toolbar_visible=toolbar_visible)
        self.box = widgets.VBox([*rows, self.canvas, *below])
        _adopt(self)

    def _watch(self, controls) -> None:
        """Run :meth:`update` when any of ``controls`` changes value, unless ``update`` made the change."""
        for control in controls:
            control.observe(self._on_change, names="value")

    def _on_change(self, change) -> None:
        if not self._updating.active:
            with self._updating, self._frame_first():  # what update() does to other controls runs nothing more
                self.update()

    @contextlib.contextmanager
    def _frame_first(self):
        """Hold back what :meth:`update` changes in the controls and read-outs until it has drawn (ipywidgets'
        ``hold_sync``): the page gets the new frame first, then one message per changed widget. The picture is
        what a step is for; a read-out's message sent before the frame made the page update that widget (layout
        and all) before it could paint the frame.

        torch computes the step on one thread. A step's tensors are small, and the browser handling the step's
        messages keeps a core busy at that moment; with a thread per core, each small operation can wait for a
        thread that does not get a core (on two busy cores, lesson 02's 1,620 small convolutions took 5.4 s with
        two threads and 0.05 s with one)."""
        threads = torch.get_num_threads()
        with contextlib.ExitStack() as held:
            for widget in self._widgets():
                if widget is not self.canvas:
                    held.enter_context(widget.hold_sync())
            torch.set_num_threads(1)
            try:
                yield
            finally:
                torch.set_num_threads(threads)

    @functools.cached_property
    def _updating(self) -> Busy:
        return Busy()

    def update(self) -> None:
        """Recompute the picture from the controls, update the figure in place, ask for one redraw."""
        raise NotImplementedError(f"{type(self).__name__} has no update()")

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.box._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)  # short and stable (the box's repr lists every child widget)
        # beside the widget view, the picture as a PNG: what GitHub, nbviewer and HTML exports show (they have
        # no widget state, so they fall back to it); a live JupyterLab shows the widget
        if type(self).static_figure is not Explorer.static_figure:  # an explorer without one shows the widget only
            bundle["image/png"] = base64.b64encode(self.still_png()).decode("ascii")
        return bundle

    def still_png(self) -> bytes:
        """The PNG stored beside the widget view: :meth:`static_figure` at the live canvas's size and dpi."""
        buffer = io.BytesIO()
        self.static_figure().savefig(buffer, format="png", metadata={"Software": None})
        return buffer.getvalue()

    def close(self) -> None:
        """Close every widget of the explorer (controls, rows, canvas, their layouts and styles), so that
        ipywidgets lets go of them and the kernel gets their memory back; it cannot be shown afterwards."""
        for widget in _reachable([self.box, *self._widgets()]):
            widget.close()

    def _widgets(self):
        """Every widget of the explorer but the box: its controls, its read-outs, the canvas and its toolbar."""
        yield from ()

    def _redraw(self) -> None:
        """Send the updated picture to the page: the one place a callback asks for a new frame.

        A page showing the canvas has told ipympl so (its "initialized" message turns ``syncing_data_url``
        off): then the figure is drawn and its frame sent at once, in this callback. ``draw_idle()`` would
        instead send a "draw" message and wait for the page to ask for the frame, a second round trip between
        page and kernel for every step. A fast drag does not pile frames up: ipywidgets sends the kernel a
        slider's next value only once it has finished with the last one. With no page (nbconvert, nbval,
        tests), ``draw_idle()`` costs nothing until a page asks.
        """
        if self.canvas.syncing_data_url:
            self.canvas.draw_idle()
        else:
            self.canvas.draw()

    @classmethod
    def example(cls):
        """An explorer with the lesson's defaults, as benchmarks and demos make one without arguments."""
        return cls()

    def static_figure(self) -> matplotlib.figure.Figure:
        """A new Figure (no canvas, not pyplot's) showing what the explorer shows now: for static PNGs."""
        raise NotImplementedError(f"{type(self).__name__} has no static_figure()")

    def animate(self, path, control, values=None, *, caption=None, frame_ms=animation.FRAME_MS):
        """Write a tour of one control (its name, ``"stride"``, or the widget) as an animated GIF (or MP4) for slides.

        One frame per value (default: all of them), each the picture :meth:`static_figure` draws, captioned
        ``stride = 2`` unless ``caption`` says otherwise; see :func:`cnn_lessons.explorers.animation.animate`.
        """
        return animation.animate(self, path, control, values, caption=caption, frame_ms=frame_ms)

    def benchmark_steps(self) -> list[tuple[widgets.ValueWidget, object]]:
        """(control, value) changes that tour the explorer, for ``benchmarks/slider_latency.py``.

        The default walks through every value of the first slider or choice among the explorer's controls.
        """
        for control in self._widgets():
            if isinstance(control, (widgets.IntSlider, widgets.FloatSlider)):
                return [(control, v) for v in range(int(control.min), int(control.max) + 1)]
            if hasattr(control, "options") and hasattr(control, "value"):
                return [(control, option) for option in control.options]
        return []


class Busy:
    """Re-entrancy guard: a callback that changes another control's range must not run the update twice.

    Blocks nest: the guard is active until the outermost ``with`` block ends."""

    def __init__(self):
        self.depth = 0

    @property
    def active(self) -> bool:
        """Whether an update is running."""
        return self.depth > 0

    def __enter__(self):
        self.depth += 1

    def __exit__(self, *exc):
        self.depth -= 1


def slider(description: str, value: int, low: int, high: int, width: str = "260px") -> widgets.IntSlider:
    """An integer slider as the explorers lay it out (updates while dragged, labels 78 px wide)."""
    return widgets.IntSlider(
        value=value,
        min=low,
        max=high,
        description=description,
        continuous_update=True,
        style={"description_width": "78px"},
        layout=widgets.Layout(width=width),
    )
