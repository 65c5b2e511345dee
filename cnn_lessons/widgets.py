"""Interactive explorers for the lessons: ipywidgets controls wired to :mod:`cnn_lessons.ops` and
:mod:`cnn_lessons.viz`.

Thin wiring only: a control's new value goes to the pure functions in ``ops`` (every number shown comes from
there), the results go to a ``viz`` view that updates its existing artists in place, and the canvas is asked
to redraw (:meth:`_Explorer._redraw`). A callback never makes a figure, never clears output and never prints.

Each explorer draws on its own ipympl canvas (an ipywidget, so no ``%matplotlib widget`` and no pyplot
figure registry are involved) shown in a widget box with its controls; the last line of a cell,
``StepThroughExplorer()``, displays it. Everything also works headless (plain Python, pytest): set a
control's ``.value`` and read the artists back.

- :class:`StepThroughExplorer`: one output position at a time, 1-D and 2-D, correlation or convolution.
- :class:`KernelPicker`: classic 3x3 kernels on a real photo.
- :class:`ConvArithmeticExplorer`: padding, stride, dilation and padding modes, 1-D and 2-D (lesson 02).
- :class:`ReceptiveFieldExplorer`: how one output's receptive field grows through a stack of layers (lesson 02).

Every explorer also has ``static_figure()`` (a new Figure of what it shows now, for a static PNG) and
``benchmark_steps()`` (control changes for ``benchmarks/slider_latency.py``).
"""

from __future__ import annotations

import itertools
import struct
import sys
import typing
import warnings
import zlib
from html import escape

import ipywidgets as widgets
import matplotlib
import matplotlib.figure
import numpy as np
import torch
from matplotlib import rcsetup

from cnn_lessons import data, explain, ops, train, viz
from cnn_lessons import features as _features
from cnn_lessons.arithmetic import resolve_padding


def _import_ipympl_keeping_backend():
    """Import ipympl's canvas without letting ``import ipympl`` switch pyplot to the widget backend.

    ipympl's ``__init__`` calls ``matplotlib.use("module://ipympl.backend_nbagg")`` when matplotlib is already
    imported; the lessons' static figures must stay on the inline backend (stored as PNGs), so restore it.
    """
    before = dict.__getitem__(matplotlib.rcParams, "backend")
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


__all__ = [
    "explorer_canvas",
    "StepThroughExplorer",
    "KernelPicker",
    "ConvArithmeticExplorer",
    "ReceptiveFieldExplorer",
    "MODES",
    "DEFAULT_SIGNAL",
    "DEFAULT_KERNEL",
    "DEFAULT_IMAGE",
    "DEFAULT_IMAGE_KERNEL",
]

MODES = ("correlation", "convolution")
DEFAULT_SIGNAL = (3, 1, 0, 2, 5, 4, 1, 2)
DEFAULT_KERNEL = (1, 2, -1)  # asymmetric: flipping it changes the result
DEFAULT_IMAGE = (
    (0, 1, 2, 3, 4, 5),
    (1, 0, 1, 2, 3, 4),
    (2, 1, 0, 1, 2, 3),
    (3, 2, 1, 0, 1, 2),
    (4, 3, 2, 1, 0, 1),
    (5, 4, 3, 2, 1, 0),
)
DEFAULT_IMAGE_KERNEL = ((1, 2, 0), (0, 1, 0), (0, -1, -1))  # not symmetric under a 180-degree turn

_figure_numbers = itertools.count(1)


FRAME_PNG_COMPRESS_LEVEL = 1
"""zlib level of the PNG frames an explorer's canvas sends (ipympl's default, through PIL, is 6)."""


def frame_png(rgba: np.ndarray, level: int = FRAME_PNG_COMPRESS_LEVEL) -> bytes:
    """An (H, W, 4) uint8 RGBA array as an unfiltered PNG, zlib ``level``.

    PIL chooses a PNG filter for every row by trying all five, which costs more than the compression itself
    for a canvas frame (4 of 6 ms for a 669x312 frame at level 1) and gains nothing on a frame that is mostly
    flat colour or, for a diff frame, mostly transparent zeros. PIL has no option to skip it; a PNG written
    without filters (filter byte 0 on each row) is the PNG standard's simplest form and encodes in 30-40% of
    the time, at about the same size.
    """
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


class _Explorer:
    """Shared display plumbing: ``box`` holds the controls and the canvas."""

    box: widgets.Box
    canvas: Canvas
    fig: matplotlib.figure.Figure

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.box._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)  # short and stable (the box's repr lists every child widget)
        return bundle

    def close(self) -> None:
        """Close the widgets (and the canvas); the explorer cannot be shown afterwards."""
        for child in self._widgets():
            child.close()
        self.box.close()

    def _widgets(self):
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


class StepThroughExplorer(_Explorer):
    """Step through a correlation (or convolution) one output at a time, in 1-D and in 2-D.

    ``signal``/``kernel``: 1-D; ``image``/``image_kernel``: 2-D (anything ``torch.as_tensor`` takes; small
    integers keep the numbers readable). ``padding`` (an int, "valid", "same" or "full") applies to both.

    Controls: ``position`` (IntSlider) moves both windows; ``mode`` (ToggleButtons) picks correlation or
    convolution (the kernel flipped, ``flip=True``). ``readout`` (HTML) writes both sums out. The position
    runs over the larger of the two outputs: in 1-D it is the output index, held at the last one when the
    position runs past it; in 2-D it is the output cell in row-major order, ``(row, col) = divmod(position,
    out_width)``, held at the last cell likewise (see :meth:`positions`).
    """

    def __init__(self, signal=None, kernel=None, image=None, image_kernel=None, *, padding=0):
        self.signal = torch.as_tensor(DEFAULT_SIGNAL if signal is None else signal)
        self.kernel = torch.as_tensor(DEFAULT_KERNEL if kernel is None else kernel)
        self.image = torch.as_tensor(DEFAULT_IMAGE if image is None else image)
        self.image_kernel = torch.as_tensor(DEFAULT_IMAGE_KERNEL if image_kernel is None else image_kernel)
        self.padding = padding

        # every output once per mode; the steps at position 0 give the output sizes (ops checks the input)
        self.outputs = {
            "correlation": (
                ops.correlate1d(self.signal, self.kernel, padding=padding),
                ops.correlate2d(self.image, self.image_kernel, padding=padding),
            ),
            "convolution": (
                ops.convolve1d(self.signal, self.kernel, padding=padding),
                ops.convolve2d(self.image, self.image_kernel, padding=padding),
            ),
        }
        self.step1d = ops.window_step1d(self.signal, self.kernel, 0, padding=padding)
        self.step2d = ops.window_step2d(self.image, self.image_kernel, (0, 0), padding=padding)
        (self.length1d,) = self.step1d.output_shape
        self.shape2d = self.step2d.output_shape
        self.length2d = self.shape2d[0] * self.shape2d[1]

        self.position = widgets.IntSlider(
            value=0,
            min=0,
            max=max(self.length1d, self.length2d) - 1,
            description="position",
            layout=widgets.Layout(width="420px"),
        )
        self.mode = widgets.ToggleButtons(
            options=MODES,
            value=MODES[0],
            description="mode",
            tooltips=[
                "slide the kernel as it is (what torch's conv1d/conv2d compute)",
                "flip the kernel first (true convolution)",
            ],
            style={"button_width": "100px"},
        )
        self.readout = widgets.HTML(layout=widgets.Layout(margin="0 0 0 10px"))

        self.fig = matplotlib.figure.Figure(dpi=100)
        self.view = viz.StepThroughView(
            self.fig,
            self.step1d,
            self.step2d,
            padding1d=resolve_padding(padding, len(self.kernel)),
            padding2d=tuple(resolve_padding(padding, k) for k in self.image_kernel.shape),
        )
        self.canvas = explorer_canvas(self.fig, toolbar_visible=False)
        self.box = widgets.VBox([widgets.HBox([self.position, self.mode]), self.readout, self.canvas])

        self.update()
        self.position.observe(self._on_change, names="value")
        self.mode.observe(self._on_change, names="value")

    def positions(self, position: int | None = None) -> tuple[int, tuple[int, int]]:
        """The (1-D index, 2-D (row, col)) that slider ``position`` (default: its value) stands for."""
        position = self.position.value if position is None else position
        flat = min(position, self.length2d - 1)
        return min(position, self.length1d - 1), divmod(flat, self.shape2d[1])

    def _on_change(self, change) -> None:
        self.update()

    def update(self) -> None:
        """Recompute the two steps for the controls' values and update the picture in place."""
        self._render(self.view)
        mode = self.mode.value
        flip = mode == "convolution"
        how = (
            "the kernel slides as it is (this is what torch's conv1d/conv2d compute)"
            if not flip
            else "the kernel is flipped first (reversed in 1-D, turned 180\u00b0 in 2-D), then slid"
        )
        self.readout.value = (
            f"<b>{mode}</b>: {how}<br>"
            f"1-D: {viz.step_equation(self.step1d, html=True)}<br>"
            f"2-D: {viz.step_equation(self.step2d, html=True)}"
        )
        self._redraw()

    def _render(self, view: viz.StepThroughView) -> None:
        """Compute the two steps for the controls' values and show them in ``view``."""
        mode = self.mode.value
        flip = mode == "convolution"
        index1d, index2d = self.positions()
        self.step1d = ops.window_step1d(self.signal, self.kernel, index1d, padding=self.padding, flip=flip)
        self.step2d = ops.window_step2d(self.image, self.image_kernel, index2d, padding=self.padding, flip=flip)
        out1d, out2d = self.outputs[mode]
        past1d = self.position.value > index1d
        past2d = self.position.value > index2d[0] * self.shape2d[1] + index2d[1]
        held = "  (its last output)"
        view.update(
            self.step1d,
            self.step2d,
            out1d,
            out2d,
            flipped=flip,
            note1d=held if past1d else "",
            note2d=held if past2d else "",
        )

    def static_figure(self) -> matplotlib.figure.Figure:
        fig = matplotlib.figure.Figure(dpi=100)
        view = viz.StepThroughView(
            fig,
            self.step1d,
            self.step2d,
            padding1d=resolve_padding(self.padding, len(self.kernel)),
            padding2d=tuple(resolve_padding(self.padding, k) for k in self.image_kernel.shape),
        )
        self._render(view)
        return fig

    def benchmark_steps(self):
        positions = range(self.position.min, self.position.max + 1)
        return [
            *[(self.position, p) for p in positions],
            (self.mode, "convolution"),
            *[(self.position, p) for p in reversed(positions)],
            (self.mode, "correlation"),
        ]

    def _widgets(self):
        yield from (self.position, self.mode, self.readout, self.canvas, self.canvas.toolbar)

    def __repr__(self) -> str:
        return f"StepThroughExplorer(position={self.position.value}, mode={self.mode.value!r})"


KERNEL_NOTES = {
    "identity": "copies every pixel: the output is the input",
    "box blur": "the mean of each 3x3 neighbourhood: smooths noise and fine detail",
    "sharpen": "5 x the pixel minus its 4 neighbours: the pixel plus its difference from them, more contrast",
    "sobel x": "right column minus left column (middle row counted twice): positive where brightness "
    "increases to the right, so vertical edges light up",
    "sobel y": "bottom row minus top row: positive where brightness increases downwards (horizontal edges)",
    "laplacian": "the 4 neighbours minus 4 x the pixel: 0 on flat areas and even ramps, strong on edges and "
    "fine detail in every direction",
}


class KernelPicker(_Explorer):
    """Classic hand-made 3x3 kernels on a real photo: pick one, see its weights and the filtered photo.

    ``image``: a 2-D grayscale image with values in [0, 1] (default :func:`cnn_lessons.data.load_photo`).
    The result is ``ops.correlate2d(image, kernel, padding="same")``, what ``F.conv2d`` computes.
    Controls: ``kernel`` (Dropdown over ``ops.CLASSIC_KERNELS``) and ``note`` (HTML, what the kernel does).
    """

    def __init__(self, image=None, kernel: str = "sobel x"):
        if image is None:
            from cnn_lessons.data import load_photo

            image = load_photo()
        self.image = torch.as_tensor(image)
        names = list(ops.CLASSIC_KERNELS)
        if kernel not in names:
            raise ValueError(f"kernel must be one of {names}, got {kernel!r}")
        self.kernel = widgets.Dropdown(options=names, value=kernel, description="kernel")
        self.note = widgets.HTML(layout=widgets.Layout(margin="0 0 0 10px"))
        self.result = ops.correlate2d(self.image, ops.CLASSIC_KERNELS[kernel], padding="same")
        self._results = {kernel: self.result}

        self.fig = matplotlib.figure.Figure(dpi=100)
        self.view = viz.KernelPickerView(self.fig, self.image, ops.CLASSIC_KERNELS[kernel].shape)
        self.canvas = explorer_canvas(self.fig)
        self.box = widgets.VBox([widgets.HBox([self.kernel, self.note]), self.canvas])

        self.update()
        self.kernel.observe(self._on_change, names="value")

    def _on_change(self, change) -> None:
        self.update()

    def update(self) -> None:
        """Filter the photo with the chosen kernel and update the picture in place."""
        name = self.kernel.value
        self._render(self.view)
        self.note.value = f"<b>{name}</b>: {KERNEL_NOTES.get(name, '')}"
        self._redraw()

    def _render(self, view: viz.KernelPickerView) -> None:
        name = self.kernel.value
        weights = ops.CLASSIC_KERNELS[name]
        if name not in self._results:  # the photo never changes: each kernel's result is computed once
            self._results[name] = ops.correlate2d(self.image, weights, padding="same")
        self.result = self._results[name]
        view.update(name, weights, self.result)

    def static_figure(self) -> matplotlib.figure.Figure:
        fig = matplotlib.figure.Figure(dpi=100)
        self._render(viz.KernelPickerView(fig, self.image, ops.CLASSIC_KERNELS[self.kernel.value].shape))
        return fig

    def benchmark_steps(self):
        return [(self.kernel, name) for name in self.kernel.options]

    def _widgets(self):
        yield from (self.kernel, self.note, self.canvas, self.canvas.toolbar)

    def __repr__(self) -> str:
        return f"KernelPicker(kernel={self.kernel.value!r})"


# --- lesson 02: convolution arithmetic --------------------------------------------------------------------------

DIMS = ("2-D", "1-D")


class _Busy:
    """Re-entrancy guard: a callback that changes another control's range must not run the update twice."""

    def __init__(self):
        self.active = False

    def __enter__(self):
        self.active = True

    def __exit__(self, *exc):
        self.active = False


def _slider(description: str, value: int, low: int, high: int, width: str = "260px") -> widgets.IntSlider:
    return widgets.IntSlider(
        value=value,
        min=low,
        max=high,
        description=description,
        continuous_update=True,
        style={"description_width": "78px"},
        layout=widgets.Layout(width=width),
    )


class ConvArithmeticExplorer(_Explorer):
    """Padding, stride and dilation of one convolution, live: the padded input, the taps, the output, the formula.

    Controls: ``dims`` ('2-D' or '1-D'), ``size`` (the input's side: 1..9 in 2-D, 1..20 in 1-D), ``kernel_size``
    (1..5), ``padding`` (0..4, used when ``padding_choice`` is 'custom'), ``padding_choice`` ('custom', 'valid',
    'same', 'full'), ``stride`` (1..4), ``dilation`` (1..3), ``padding_mode`` ('zeros', 'reflect', 'replicate',
    'circular') and ``position`` (the output cell shown: its index, row-major in 2-D; its maximum follows the
    output size). ``readout`` (HTML) holds the PyTorch layer, ready to copy.

    Every number comes from :func:`cnn_lessons.explain.conv_picture` (arithmetic and ops underneath); the input
    is :func:`cnn_lessons.explain.demo_input`, small integers, so the values that reflect, replicate and circular
    padding copy are recognisable. Combinations torch refuses are explained in the figure, the output greyed out.
    """

    SIZE_RANGE = {"2-D": (1, 9), "1-D": (1, 20)}

    def __init__(
        self,
        dims: str = "2-D",
        *,
        size: int = 7,
        kernel_size: int = 3,
        padding: int = 1,
        stride: int = 2,
        dilation: int = 1,
        padding_choice: str = "custom",
        padding_mode: str = "zeros",
        position: int = 0,
    ):
        if dims not in DIMS:
            raise ValueError(f"dims must be one of {DIMS}, got {dims!r}")
        low, high = self.SIZE_RANGE[dims]
        if not low <= size <= high:
            raise ValueError(f"size must be between {low} and {high} in {dims}, got {size}")
        self.dims = widgets.ToggleButtons(options=DIMS, value=dims, style={"button_width": "52px"})
        self.size = _slider("input size", size, low, high)
        self.kernel_size = _slider("kernel size", kernel_size, 1, 5)
        self.padding = _slider("padding", padding, 0, 4)
        self.stride = _slider("stride", stride, 1, 4)
        self.dilation = _slider("dilation", dilation, 1, 3)
        self.position = _slider("output cell", position, 0, position)  # update() sets the real maximum
        self.padding_choice = widgets.ToggleButtons(
            options=explain.PADDING_CHOICES,
            value=padding_choice,
            description="padding",
            tooltips=[
                "the padding slider's value on every side",
                "no padding",
                "d(k-1) in total, so that stride 1 keeps the size",
                "d(k-1) on every side: every tap meets every input cell",
            ],
            style={"button_width": "62px", "description_width": "60px"},
        )
        self.padding_mode = widgets.ToggleButtons(
            options=explain.PADDING_MODES,
            value=padding_mode,
            description="mode",
            style={"button_width": "72px", "description_width": "40px"},
        )
        self.readout = widgets.HTML(layout=widgets.Layout(margin="2px 0 0 10px"))
        self._busy = _Busy()

        self.fig = matplotlib.figure.Figure(dpi=100)
        self.view = viz.ConvArithmeticView(self.fig)
        self.canvas = explorer_canvas(self.fig, toolbar_visible=False)
        column = widgets.VBox
        self.box = widgets.VBox(
            [
                widgets.HBox([self.dims, self.padding_choice, self.padding_mode]),
                widgets.HBox(
                    [
                        column([self.size, self.kernel_size, self.padding]),
                        column([self.stride, self.dilation, self.position]),
                    ]
                ),
                self.readout,
                self.canvas,
            ]
        )
        self.update()
        for control in self.controls().values():
            control.observe(self._on_change, names="value")

    def controls(self) -> dict[str, widgets.ValueWidget]:
        """The controls by name."""
        return {
            "dims": self.dims,
            "size": self.size,
            "kernel_size": self.kernel_size,
            "padding": self.padding,
            "padding_choice": self.padding_choice,
            "stride": self.stride,
            "dilation": self.dilation,
            "padding_mode": self.padding_mode,
            "position": self.position,
        }

    def picture(self) -> explain.ConvPicture:
        """What the controls' values give (:func:`cnn_lessons.explain.conv_picture`)."""
        choice = self.padding_choice.value
        return explain.conv_picture(
            1 if self.dims.value == "1-D" else 2,
            self.size.value,
            self.kernel_size.value,
            self.stride.value,
            self.padding.value if choice == "custom" else choice,
            self.dilation.value,
            self.padding_mode.value,
            self.position.value,
        )

    def _on_change(self, change) -> None:
        if not self._busy.active:
            self.update()

    def update(self) -> None:
        """Adapt the slider ranges, recompute the picture, update the figure in place, ask for one redraw."""
        with self._busy:
            low, high = self.SIZE_RANGE[self.dims.value]
            if (self.size.min, self.size.max) != (low, high):
                with self.size.hold_sync():
                    self.size.min, self.size.max = low, high
            self.padding.disabled = self.padding_choice.value != "custom"
            self.current = picture = self.picture()
            with self.position.hold_sync():
                self.position.max = picture.last_position
                self.position.value = picture.flat_position
                self.position.disabled = picture.output_size is None
            self.view.update(picture)
            self.readout.value = f"PyTorch: <code>{escape(picture.torch_line)}</code>"
        self._redraw()

    def static_figure(self) -> matplotlib.figure.Figure:
        fig = matplotlib.figure.Figure(dpi=100)
        viz.ConvArithmeticView(fig).update(self.picture())
        return fig

    def benchmark_steps(self):
        c = self.controls()
        return [
            *[(c["position"], p) for p in range(16)],
            (c["stride"], 1),
            (c["kernel_size"], 4),
            (c["dilation"], 2),
            (c["padding_choice"], "same"),
            (c["padding_mode"], "reflect"),
            (c["size"], 9),
            (c["padding_mode"], "circular"),
            (c["padding_choice"], "full"),
            (c["dilation"], 1),
            (c["padding_choice"], "custom"),
            (c["kernel_size"], 3),
            (c["dims"], "1-D"),
            *[(c["position"], p) for p in range(0, 9, 2)],
            (c["size"], 16),
            (c["stride"], 2),
            (c["padding_mode"], "zeros"),
            (c["dims"], "2-D"),
            (c["size"], 7),
        ]

    def _widgets(self):
        yield from (*self.controls().values(), self.readout, self.canvas, self.canvas.toolbar)

    def __repr__(self) -> str:
        choice = self.padding_choice.value
        padding = self.padding.value if choice == "custom" else repr(choice)
        return (
            f"ConvArithmeticExplorer({self.dims.value}, size={self.size.value}, kernel_size={self.kernel_size.value}, "
            f"stride={self.stride.value}, padding={padding}, dilation={self.dilation.value}, "
            f"padding_mode={self.padding_mode.value!r}, position={self.position.value})"
        )


class ReceptiveFieldExplorer(_Explorer):
    """How far one output of a stack of 1-D layers sees: its receptive field, layer by layer.

    Controls: ``layers`` (how many, 1..4), per layer ``kernels[l]`` (1..5), ``strides[l]`` (1..3) and
    ``dilations[l]`` (1..3), ``input_size`` (1..40) and ``position`` (the last layer's cell whose inputs are
    traced; its maximum follows that layer's size). The rows of the layers not in use stay in place, their
    sliders disabled, so the figure below does not jump when the number of layers changes. The layers have no
    padding, so each output is shorter; a layer that does not fit is explained in the figure. The receptive
    field is :func:`cnn_lessons.arithmetic.receptive_field`; the cells that feed the chosen output come from
    :func:`cnn_lessons.explain.receptive_field_picture`.
    """

    MAX_LAYERS = 4

    def __init__(self, layers=((3, 1, 1), (3, 2, 1), (3, 1, 2)), *, input_size: int = 24, position: int = 3):
        layers = [tuple(layer) + (1,) * (3 - len(layer)) for layer in layers]
        if not 1 <= len(layers) <= self.MAX_LAYERS:
            raise ValueError(f"give 1 to {self.MAX_LAYERS} layers, got {len(layers)}")
        padded = layers + [(3, 1, 1)] * (self.MAX_LAYERS - len(layers))
        self.layers = _slider("layers", len(layers), 1, self.MAX_LAYERS, width="230px")
        self.input_size = _slider("input size", input_size, 1, 40, width="300px")
        self.position = _slider("output cell", position, 0, position, width="300px")  # update() sets the maximum
        short = {"description_width": "52px"}
        self.kernels = [
            widgets.IntSlider(value=k, min=1, max=5, description="kernel", style=short) for k, _, _ in padded
        ]
        self.strides = [
            widgets.IntSlider(value=s, min=1, max=3, description="stride", style=short) for _, s, _ in padded
        ]
        self.dilations = [
            widgets.IntSlider(value=d, min=1, max=3, description="dilation", style=short) for _, _, d in padded
        ]
        for control in (*self.kernels, *self.strides, *self.dilations):
            control.layout = widgets.Layout(width="220px")
        self.rows = [
            widgets.HBox([widgets.Label(f"layer {n + 1}", layout=widgets.Layout(width="52px")), k, s, d])
            for n, (k, s, d) in enumerate(zip(self.kernels, self.strides, self.dilations, strict=True))
        ]
        self._busy = _Busy()
        self.fig = matplotlib.figure.Figure(dpi=100)
        self.view = viz.ReceptiveFieldView(self.fig, max_layers=self.MAX_LAYERS)
        self.canvas = explorer_canvas(self.fig, toolbar_visible=False)
        self.box = widgets.VBox([widgets.HBox([self.layers, self.input_size, self.position]), *self.rows, self.canvas])
        self.update()
        for control in self.controls():
            control.observe(self._on_change, names="value")

    def controls(self) -> list[widgets.IntSlider]:
        return [self.layers, self.input_size, self.position, *self.kernels, *self.strides, *self.dilations]

    def stack(self) -> list[tuple[int, int, int]]:
        """The (kernel, stride, dilation) of the layers in use, first layer first."""
        return [
            (self.kernels[n].value, self.strides[n].value, self.dilations[n].value) for n in range(self.layers.value)
        ]

    def picture(self) -> explain.RFPicture:
        return explain.receptive_field_picture(self.stack(), self.input_size.value, self.position.value)

    def _on_change(self, change) -> None:
        if not self._busy.active:
            self.update()

    def update(self) -> None:
        """Enable the rows in use, recompute the picture, update the figure in place, ask for one redraw."""
        with self._busy:
            for n, controls in enumerate(zip(self.kernels, self.strides, self.dilations, strict=True)):
                for control in controls:  # (traitlets sends nothing when the value stays the same)
                    control.disabled = n >= self.layers.value
            self.current = picture = self.picture()
            with self.position.hold_sync():
                self.position.max = picture.last_position
                self.position.value = picture.position
                self.position.disabled = picture.problem is not None
            self.view.update(picture)
        self._redraw()

    def static_figure(self) -> matplotlib.figure.Figure:
        fig = matplotlib.figure.Figure(dpi=100)
        viz.ReceptiveFieldView(fig, max_layers=self.MAX_LAYERS).update(self.picture())
        return fig

    def benchmark_steps(self):
        return [
            *[(self.position, p) for p in range(6)],
            (self.kernels[0], 5),
            (self.dilations[2], 3),
            (self.strides[1], 1),
            (self.layers, 4),
            (self.kernels[3], 2),
            (self.input_size, 40),
            *[(self.position, p) for p in range(0, 20, 3)],
            (self.layers, 3),
            (self.kernels[0], 3),
            (self.dilations[2], 2),
            (self.strides[1], 2),
            (self.input_size, 24),
        ]

    def _widgets(self):
        yield from (*self.controls(), *self.rows, self.canvas, self.canvas.toolbar)

    def __repr__(self) -> str:
        return (
            f"ReceptiveFieldExplorer(layers={self.stack()}, input_size={self.input_size.value}, "
            f"position={self.position.value})"
        )


# --- lesson 04: the model explorer --------------------------------------------------------------------------


__all__ += ["ModelExplorer", "ModelFacts", "model_facts", "model_input_size"]

_MODEL_INPUT_SIZES = {"lenet5": (1, 32, 32)}  # every other model: (3, 224, 224)


def model_input_size(name: str) -> tuple[int, int, int]:
    """The (channels, height, width) of one input that model ``name`` is summarised on: 1x32x32 grayscale for
    LeNet-5 (the size it was designed for), 3x224x224 RGB for the ImageNet models."""
    return _MODEL_INPUT_SIZES.get(name, (3, 224, 224))


class ModelFacts(typing.NamedTuple):
    """What :class:`ModelExplorer` shows about one model (see :func:`model_facts`)."""

    name: str
    input_size: tuple[int, int, int]
    parameters: int
    multiply_adds: int
    stages: dict[str, int]
    summary: str


_FACTS: dict[str, ModelFacts] = {}


def model_facts(name: str) -> ModelFacts:
    """Parameters, multiply-adds, parameters per stage and the ``torchinfo`` summary of model ``name``.

    The model is built on PyTorch's "meta" device (shapes only: no memory, no weights to initialise, forward
    passes that only propagate shapes), so even VGG-16 takes a fraction of a second; the result is cached per
    name. The summary is ``torchinfo.summary(model, input_size=(1, *model_input_size(name)), depth=1)`` with
    each stage's name shown; multiply-adds come from :func:`cnn_lessons.arithmetic.multiply_adds`.
    """
    from cnn_lessons import models

    if name not in models.MODELS:
        raise ValueError(f"name must be one of {list(models.MODELS)}, got {name!r}")
    if name not in _FACTS:
        import re

        import torchinfo

        from cnn_lessons.arithmetic import multiply_adds

        size = model_input_size(name)
        with torch.device("meta"):
            model = models.MODELS[name]()
        model.eval()
        text = str(
            torchinfo.summary(
                model, input_size=(1, *size), depth=1, verbose=0, device="meta", row_settings=("var_names",)
            )
        )
        # torchinfo 1.8 on Python 3.11+ prints its unit enum as "(Units.MEGABYTES)": write the unit, "(M)"
        text = re.sub(r"\(Units\.(\w+)\)", lambda m: f"({_TORCHINFO_UNITS.get(m.group(1), m.group(1))})", text)
        _FACTS[name] = ModelFacts(
            name=name,
            input_size=size,
            parameters=models.count_parameters(model),
            multiply_adds=multiply_adds(model, size),
            stages=models.stage_parameter_counts(model),
            summary=text,
        )
    return _FACTS[name]


_TORCHINFO_UNITS = {"MEGABYTES": "M", "GIGABYTES": "G", "TERABYTES": "T", "NONE": ""}


class ModelExplorer(_Explorer):
    """Pick one of the lesson's models: its parameters per stage as bars, and its ``torchinfo`` summary.

    Controls: ``model`` (Dropdown over ``cnn_lessons.models.MODELS``). ``header`` (HTML) gives the totals,
    ``summary`` (HTML, a ``<pre>`` block) the torchinfo table, and the canvas shows
    :class:`cnn_lessons.viz.StageParameterView`, updated in place. Models are built on the meta device and
    their facts cached (:func:`model_facts`), so switching is quick after each model's first time.
    """

    MAX_STAGES = 16

    def __init__(self, model: str = "resnet18"):
        from cnn_lessons import models

        names = list(models.MODELS)
        if model not in names:
            raise ValueError(f"model must be one of {names}, got {model!r}")
        self.model = widgets.Dropdown(options=names, value=model, description="model")
        self.header = widgets.HTML(layout=widgets.Layout(margin="0 0 0 10px"))
        self.summary = widgets.HTML(layout=widgets.Layout(max_height="420px", overflow="auto"))
        self.fig = matplotlib.figure.Figure(figsize=(8, 3.4), dpi=100)
        self.view = viz.StageParameterView(self.fig, max_stages=self.MAX_STAGES)
        self.canvas = explorer_canvas(self.fig)
        self.box = widgets.VBox([widgets.HBox([self.model, self.header]), self.canvas, self.summary])

        self.update()
        self.model.observe(self._on_change, names="value")

    @property
    def facts(self) -> ModelFacts:
        """The facts of the model shown now."""
        return model_facts(self.model.value)

    def _on_change(self, change) -> None:
        self.update()

    def update(self) -> None:
        """Show the chosen model's facts; the bars and labels change in place."""
        import html

        facts = self.facts
        channels, height, width = facts.input_size
        self.header.value = (
            f"<b>{facts.name}</b>: {facts.parameters:,} parameters, "
            f"{facts.multiply_adds / 1e9:.2f} G multiply-adds for one {channels}\u00d7{height}\u00d7{width} input"
        )
        self.view.update(facts.stages, facts.name)
        self.summary.value = f"<pre style='font-size: 11px; line-height: 1.25'>{html.escape(facts.summary)}</pre>"
        self._redraw()

    def static_figure(self) -> matplotlib.figure.Figure:
        fig = matplotlib.figure.Figure(figsize=(8, 3.4), dpi=100)
        facts = self.facts
        viz.StageParameterView(fig, max_stages=self.MAX_STAGES).update(facts.stages, facts.name)
        return fig

    def _widgets(self):
        yield from (self.model, self.header, self.summary, self.canvas, self.canvas.toolbar)

    def __repr__(self) -> str:
        return f"ModelExplorer(model={self.model.value!r})"


# --- lesson 03: the feature-map explorer ----------------------------------------------------------------------


__all__ += ["FeatureMapExplorer"]


class FeatureMapExplorer(_Explorer):
    """What a network computes inside: pick an image, a layer and a channel, see that channel's feature map.

    ``model``: a trained network (e.g. :func:`cnn_lessons.train.train_digits_cnn`'s); ``images``: a batch
    (N, C, H, W) (or (N, H, W)) to choose from; ``labels``: their classes, shown when given; ``layers``:
    layer names (default: every layer whose output is a feature map, see
    :func:`cnn_lessons.features.activations`).

    Controls: ``image`` (IntSlider, the index into ``images``), ``layer`` (SelectionSlider over the layer
    names, in the order they run) and ``channel`` (IntSlider; its maximum follows the chosen layer's channel
    count, and a channel beyond it is moved to the last one). ``readout`` (HTML) names the layer, its shape
    and the channel, and the predicted class. Each image's maps are computed once, with a chunk of its
    neighbours in one forward pass (:func:`cnn_lessons.features.batch_activations`, see :meth:`activations`),
    and kept; the canvas shows
    :class:`cnn_lessons.viz.FeatureMapView`, updated in place.
    """

    @classmethod
    def example(cls, count: int = 20):
        """The lesson's digits network, freshly initialised (untrained, seed 0), on the first ``count`` test
        digits: the same shapes and work as the lesson's explorer, without training first."""
        _, _, images, labels = data.load_digits_split()
        return cls(train.digits_cnn(seed=0), images[:count], labels[:count])

    def __init__(
        self, model, images, labels=None, *, layers=None, image: int = 0, layer: str | None = None, channel: int = 0
    ):
        images = torch.as_tensor(images)
        if images.ndim == 3:
            images = images[:, None]
        if images.ndim != 4 or len(images) == 0:
            raise ValueError(f"images must be a non-empty batch (N, C, H, W) or (N, H, W), got {tuple(images.shape)}")
        if labels is not None:
            labels = torch.as_tensor(labels)
            if labels.shape != images.shape[:1]:
                raise ValueError(f"labels must give one class per image: {len(images)} images, labels {labels.shape}")
        if not 0 <= image < len(images):
            raise ValueError(f"image must be an index from 0 to {len(images) - 1}, got {image}")
        self.model, self.images, self.labels, self.layers = model, images, labels, layers
        self._computed: dict[int, _features.Activations] = {}
        names = list(self.activations(image).maps)
        if not names:
            raise ValueError("the model has no layer whose output is a feature map (N, C, H, W)")
        layer = names[0] if layer is None else layer
        if layer not in names:
            raise ValueError(f"layer must be one of {names}, got {layer!r}")

        self.image = _slider("image", image, 0, len(images) - 1, width="300px")
        self.layer = widgets.SelectionSlider(
            options=names,
            value=layer,
            description="layer",
            continuous_update=True,
            style={"description_width": "40px"},
            layout=widgets.Layout(width="300px"),
        )
        channels = self.activations(image).maps[layer].shape[0]
        self.channel = _slider("channel", min(channel, channels - 1), 0, channels - 1, width="280px")
        self.readout = widgets.HTML(layout=widgets.Layout(margin="0 0 0 10px"))
        self._busy = _Busy()

        self.fig = matplotlib.figure.Figure(dpi=100)
        self.view = viz.FeatureMapView(self.fig)
        self.canvas = explorer_canvas(self.fig, toolbar_visible=False)
        self.box = widgets.VBox([widgets.HBox([self.image, self.layer, self.channel]), self.readout, self.canvas])
        self.update()
        for control in self.controls():
            control.observe(self._on_change, names="value")

    def controls(self) -> list[widgets.ValueWidget]:
        return [self.image, self.layer, self.channel]

    CHUNK_BYTES = 32 * 2**20
    """About how much memory one forward pass's maps may take when images are computed in chunks."""

    def activations(self, index: int | None = None) -> _features.Activations:
        """The maps and logits of image ``index`` (default: the one shown), computed once per image.

        The first image asked for runs alone; then images are computed in chunks of neighbours (as many as
        fit in :attr:`CHUNK_BYTES`, at most 64), one forward pass each, so that moving the image slider rarely
        waits for the model: most steps only look their maps up.
        """
        index = self.image.value if index is None else index
        if index not in self._computed:
            if not self._computed:
                self._computed[index] = _features.activations(self.model, self.images[index], self.layers)
            else:
                first = next(iter(self._computed.values()))
                size = sum(m.numel() * m.element_size() for m in first.maps.values()) or 1
                chunk = max(1, min(64, self.CHUNK_BYTES // size))
                start = index - index % chunk
                wanted = [i for i in range(start, min(start + chunk, len(self.images))) if i not in self._computed]
                found = _features.batch_activations(self.model, self.images[wanted], self.layers)
                self._computed.update(zip(wanted, found, strict=True))
        return self._computed[index]

    def feature_map(self) -> torch.Tensor:
        """The (H, W) map shown now: channel ``channel`` of layer ``layer`` for image ``image``."""
        return self.activations().maps[self.layer.value][self.channel.value]

    def _on_change(self, change) -> None:
        if not self._busy.active:
            self.update()

    def _titles(self) -> tuple[str, str, str]:
        index, name, channel = self.image.value, self.layer.value, self.channel.value
        found = self.activations()
        channels, height, width = found.maps[name].shape
        predicted = int(found.logits.argmax())
        label = "" if self.labels is None else f"label {int(self.labels[index])}, "
        input_title = f"image {index}: {label}predicted {predicted}"
        map_title = f"{name}, channel {channel} (of 0\u2013{channels - 1}): {height}\u00d7{width}"
        readout = (
            f"<b>{escape(name)}</b>: {channels} channels of {height}\u00d7{width} (output shape "
            f"{channels}\u00d7{height}\u00d7{width}); showing channel <b>{channel}</b> (0 to {channels - 1}) "
            f"| image {index}: {label}predicted <b>{predicted}</b>"
        )
        return input_title, map_title, readout

    def update(self) -> None:
        """Fit the channel slider to the layer, show the chosen map in place, ask for one redraw."""
        with self._busy:
            channels = self.activations().maps[self.layer.value].shape[0]
            if self.channel.max != channels - 1:
                with self.channel.hold_sync():
                    if self.channel.value > channels - 1:
                        self.channel.value = channels - 1
                    self.channel.max = channels - 1
            input_title, map_title, readout = self._titles()
            self.view.update(
                self.images[self.image.value], self.feature_map(), input_title=input_title, map_title=map_title
            )
            self.readout.value = readout
        self._redraw()

    def static_figure(self) -> matplotlib.figure.Figure:
        fig = matplotlib.figure.Figure(dpi=100)
        input_title, map_title, _ = self._titles()
        viz.FeatureMapView(fig).update(
            self.images[self.image.value], self.feature_map(), input_title=input_title, map_title=map_title
        )
        return fig

    def benchmark_steps(self):
        return [
            *[(self.channel, c) for c in range(min(8, self.channel.max + 1))],
            *[(self.layer, name) for name in self.layer.options],
            *[(self.image, i) for i in range(min(8, self.image.max + 1))],
            (self.layer, self.layer.options[0]),
        ]

    def _widgets(self):
        yield from (*self.controls(), self.readout, self.canvas, self.canvas.toolbar)

    def __repr__(self) -> str:
        return f"FeatureMapExplorer(image={self.image.value}, layer={self.layer.value!r}, channel={self.channel.value})"
