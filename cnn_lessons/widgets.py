"""Interactive explorers for the lessons: ipywidgets controls wired to :mod:`cnn_lessons.ops` and
:mod:`cnn_lessons.viz`.

Thin wiring only: a control's new value goes to the pure functions in ``ops`` (every number shown comes from
there), the results go to a ``viz`` view that updates its existing artists in place, and the canvas is asked
to redraw (``draw_idle``). A callback never makes a figure, never clears output and never prints.

Each explorer draws on its own ipympl canvas (an ipywidget, so no ``%matplotlib widget`` and no pyplot
figure registry are involved) shown in a widget box with its controls; the last line of a cell,
``StepThroughExplorer()``, displays it. Everything also works headless (plain Python, pytest): set a
control's ``.value`` and read the artists back.

- :class:`StepThroughExplorer`: one output position at a time, 1-D and 2-D, correlation or convolution.
- :class:`KernelPicker`: classic 3x3 kernels on a real photo.
"""

from __future__ import annotations

import itertools
import sys
import warnings

import ipywidgets as widgets
import matplotlib
import matplotlib.figure
import torch
from matplotlib import rcsetup

from cnn_lessons import ops, viz
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


def explorer_canvas(fig: matplotlib.figure.Figure, *, toolbar_visible="fade-in-fade-out") -> Canvas:
    """An ipympl canvas (an ipywidget) for ``fig``, with its own toolbar, for use inside a widget box.

    The figure gets a ``FigureManager`` with a fresh number (it is never registered with pyplot); header and
    footer are hidden and the canvas keeps the figure's size.
    """
    canvas = Canvas(fig)
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
        mode = self.mode.value
        flip = mode == "convolution"
        index1d, index2d = self.positions()
        self.step1d = ops.window_step1d(self.signal, self.kernel, index1d, padding=self.padding, flip=flip)
        self.step2d = ops.window_step2d(self.image, self.image_kernel, index2d, padding=self.padding, flip=flip)
        out1d, out2d = self.outputs[mode]
        past1d = self.position.value > index1d
        past2d = self.position.value > index2d[0] * self.shape2d[1] + index2d[1]
        held = "  (its last output)"
        self.view.update(
            self.step1d,
            self.step2d,
            out1d,
            out2d,
            flipped=flip,
            note1d=held if past1d else "",
            note2d=held if past2d else "",
        )
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
        self.canvas.draw_idle()

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
        weights = ops.CLASSIC_KERNELS[name]
        self.result = ops.correlate2d(self.image, weights, padding="same")
        self.view.update(name, weights, self.result)
        self.note.value = f"<b>{name}</b>: {KERNEL_NOTES.get(name, '')}"
        self.canvas.draw_idle()

    def _widgets(self):
        yield from (self.kernel, self.note, self.canvas, self.canvas.toolbar)

    def __repr__(self) -> str:
        return f"KernelPicker(kernel={self.kernel.value!r})"
