"""The arithmetic behind lesson 02's explorers, as data and as sentences: pure functions, no drawing, no widgets.

:mod:`cnn_lessons.widgets` passes slider values in, :mod:`cnn_lessons.viz` draws what comes out. Every size here
comes from :mod:`cnn_lessons.arithmetic` (``conv_output_size``, ``resolve_padding``, ``same_padding``,
``effective_kernel_size``, ``receptive_field``) and every tap position from :mod:`cnn_lessons.ops`
(``window_step1d/2d``); this module only combines them into what a picture needs (which padded cells a kernel
ever reaches, which input cells feed one output of a stack of layers) and into the formulas written out with the
current numbers. The tests check each piece against torch (``F.pad``, ``F.conv1d/2d``, gradients).

- :func:`demo_input`: the small integer input the explorers draw (copies made by padding stay recognisable).
- :func:`pad_input` / :func:`padding_mode_problem`: padding as ``nn.Conv1d/2d(padding_mode=...)`` does it, and
  why torch refuses some combinations.
- :func:`conv_picture`: everything the convolution-arithmetic explorer shows for one configuration.
- :func:`receptive_field_picture`: everything the receptive-field explorer shows for one stack of layers.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from cnn_lessons import ops
from cnn_lessons.arithmetic import (
    check_int,
    conv_output_size,
    effective_kernel_size,
    receptive_field,
    resolve_padding,
    same_padding,
)

__all__ = [
    "PADDING_CHOICES",
    "PADDING_MODES",
    "demo_input",
    "padding_mode_problem",
    "pad_input",
    "ConvOutcome",
    "conv_outcome",
    "ConvPicture",
    "conv_picture",
    "output_size_formula",
    "torch_line",
    "RFPicture",
    "receptive_field_picture",
    "receptive_field_formula",
]

PADDING_CHOICES = ("custom", "valid", "same", "full")
"""How the padding is given: an int (``custom``), or one of the words (``full`` is d*(k-1) on every side; torch
has no such word, so its layer takes the int)."""
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
"""``padding_mode`` of ``nn.Conv1d/2d``: what the padding cells hold."""

MINUS = "\u2212"
TIMES = "\u00b7"


def _number(value: int) -> str:
    return f"{value}".replace("-", MINUS)


# --- the input and its padding --------------------------------------------------------------------------------


def demo_input(size: int, dims: int = 2) -> torch.Tensor:
    """The small integer input the explorers draw, ``size`` long (1-D) or ``size`` x ``size`` (2-D).

    1-D: 1, 2, ..., size. 2-D: cell (r, c) holds 10*(r + 1) + (c + 1), so 23 is row 2, column 3 (counted from 1)
    and a copy made by reflect, replicate or circular padding tells where it came from; 0 only ever appears as
    zero padding. Sizes up to 9 keep every 2-D value at two digits.
    """
    size = check_int("size", size)
    if dims == 1:
        return torch.arange(1, size + 1)
    if dims != 2:
        raise ValueError(f"dims must be 1 or 2, got {dims!r}")
    if size > 9:
        raise ValueError(f"a 2-D demo input holds 10*(row+1) + (col+1), so its size must be at most 9, got {size}")
    index = torch.arange(1, size + 1)
    return 10 * index[:, None] + index[None, :]


def padding_mode_problem(size: int, left: int, right: int, mode: str) -> str | None:
    """Why torch refuses to pad an axis of ``size`` cells by (``left``, ``right``) in ``mode``, or None if it can.

    ``reflect`` mirrors the input about its edge cell without repeating it, so it can add at most size - 1 cells
    on a side; ``circular`` wraps around once at most, so at most ``size``; ``zeros`` and ``replicate`` can add
    any number.
    """
    if mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {PADDING_MODES}, got {mode!r}")
    widest = max(left, right)
    if mode == "reflect" and widest >= size:
        return (
            f"reflect padding mirrors the input about its edge cell without repeating that cell, so an input of "
            f"{size} can give at most {size - 1} cell{'s' if size - 1 != 1 else ''} per side, but this padding "
            f"needs {widest}; torch refuses it. Use less padding, a larger input, or 'replicate'."
        )
    if mode == "circular" and widest > size:
        return (
            f"circular padding wraps the input around, at most once, so an input of {size} can give at most "
            f"{size} cells per side, but this padding needs {widest}; torch refuses it (it would wrap around more "
            f"than once). Use less padding or a larger input."
        )
    return None


def pad_input(x, pads, mode: str = "zeros") -> torch.Tensor:
    """``x`` (1-D or 2-D) padded as ``nn.Conv1d/2d(..., padding_mode=mode)`` pads it before correlating.

    ``pads``: one (left, right) pair per axis, first axis first (rows, then columns in 2-D). Raises ValueError
    with :func:`padding_mode_problem`'s explanation where torch would refuse.
    """
    x = torch.as_tensor(x)
    pads = [tuple(int(p) for p in pair) for pair in pads]
    if x.dim() not in (1, 2) or len(pads) != x.dim():
        raise ValueError(f"need a 1-D or 2-D input and one (left, right) pair per axis, got {tuple(x.shape)}, {pads}")
    for axis, (left, right) in enumerate(pads):
        problem = padding_mode_problem(x.shape[axis], left, right, mode)
        if problem:
            raise ValueError(problem)
    flat = [p for pair in reversed(pads) for p in pair]  # F.pad takes the last axis first
    batched = x.to(torch.get_default_dtype())[None, None]
    padded = F.pad(batched, flat) if mode == "zeros" else F.pad(batched, flat, mode=mode)
    return padded[0, 0].to(x.dtype)


# --- one configuration of the convolution-arithmetic explorer -------------------------------------------------


class ConvPicture(NamedTuple):
    """What the convolution-arithmetic explorer shows for one configuration (sizes are per axis; 2-D is square).

    ``pads`` is None when the padding cannot be worked out ('same' with stride > 1); ``output_size`` is None and
    ``problem`` says why in words when torch refuses the configuration. ``padded`` holds the padded input's
    values (None when torch refuses the padding itself), ``is_padding`` marks its padding cells, ``taps`` the
    padded indices under the kernel at ``position`` (rows then columns in 2-D, as ``ops.window_step*`` gives
    them; empty when there is no output), ``reached`` per axis whether any tap of any output lands on that
    padded index, ``window_starts`` per output index its first tap's padded index.
    """

    dims: int
    size: int
    kernel_size: int
    stride: int
    padding: int | str
    dilation: int
    padding_mode: str
    input: torch.Tensor
    pads: tuple[int, int] | None
    padded_size: int
    span: int
    output_size: int | None
    problem: str | None
    position: tuple[int, ...]
    flat_position: int
    padded: torch.Tensor | None
    is_padding: torch.Tensor
    taps: tuple[torch.Tensor, ...]
    reached: torch.Tensor
    window_starts: tuple[int, ...]
    formula: str
    notes: tuple[str, ...]
    torch_line: str

    @property
    def output_cells(self) -> int:
        """How many output positions there are (0 without an output)."""
        return 0 if self.output_size is None else self.output_size**self.dims

    @property
    def last_position(self) -> int:
        """The last output cell's flat index (0 without an output): a position slider's maximum."""
        return max(self.output_cells - 1, 0)


def torch_line(dims: int, kernel_size: int, stride: int, padding, dilation: int, padding_mode: str) -> str:
    """The layer that computes this configuration, e.g.
    ``nn.Conv2d(1, 1, kernel_size=3, stride=2, padding=1, dilation=1, padding_mode='zeros')``.

    ``padding`` is an int, "valid", "same" or "full" (which torch does not know: the line gives its int).
    """
    if padding == "full":
        padding = resolve_padding("full", kernel_size, stride, dilation)[0]
    shown = repr(padding) if isinstance(padding, str) else str(int(padding))
    return (
        f"nn.Conv{dims}d(1, 1, kernel_size={kernel_size}, stride={stride}, padding={shown}, dilation={dilation}, "
        f"padding_mode={padding_mode!r})"
    )


def output_size_formula(size: int, kernel_size: int, stride: int = 1, padding=0, dilation: int = 1) -> str:
    """o = ⌊(i + 2p − d(k−1) − 1)/s⌋ + 1 written out with the numbers, e.g.
    ``o = ⌊(i + 2p − d(k−1) − 1)/s⌋ + 1 = ⌊(7 + 2·1 − 1·(3−1) − 1)/2⌋ + 1 = ⌊6/2⌋ + 1 = 4``.

    Uneven padding ('same' with an odd d*(k-1)) is written p_l + p_r (left and right). Where the kernel does not
    fit, the numbers still go in and the result reads "< 1: no output". 'same' with stride > 1 raises ValueError
    (:func:`cnn_lessons.arithmetic.resolve_padding`'s explanation).
    """
    left, right = resolve_padding(padding, kernel_size, stride, dilation)
    span = effective_kernel_size(kernel_size, dilation)
    spread = f"{dilation}{TIMES}({kernel_size}{MINUS}1)"
    if left == right:
        symbols, padded = "i + 2p", f"{size} + 2{TIMES}{left}"
    else:
        symbols, padded = "i + p_l + p_r", f"{size} + {left} + {right}"
    general = f"o = \u230a({symbols} {MINUS} d(k{MINUS}1) {MINUS} 1)/s\u230b + 1"
    numerator = size + left + right - span
    filled = f"\u230a({padded} {MINUS} {spread} {MINUS} 1)/{stride}\u230b + 1"
    if numerator < 0:
        return f"{general} = {filled} = \u230a{_number(numerator)}/{stride}\u230b + 1 < 1: no output"
    out = numerator // stride + 1
    assert out == conv_output_size(size, kernel_size, stride, padding, dilation)
    return f"{general} = {filled} = \u230a{numerator}/{stride}\u230b + 1 = {out}"


class ConvOutcome(NamedTuple):
    """What torch makes of one convolution along one axis: its padding (left, right), the padded length, the output
    length, or why it refuses (``output_size`` None, ``problem`` in words; ``pads`` None when not even the padding
    can be worked out)."""

    pads: tuple[int, int] | None
    padded_size: int
    output_size: int | None
    problem: str | None


def conv_outcome(size: int, kernel_size: int, stride: int = 1, padding=0, dilation: int = 1, padding_mode="zeros"):
    """:class:`ConvOutcome` of ``nn.Conv1d/2d(..., padding=padding, padding_mode=padding_mode)`` along an axis of
    ``size`` (2-D explorers are square: the same on both axes). Never raises for a configuration torch refuses:
    the reason comes from :mod:`cnn_lessons.arithmetic`'s ValueError or :func:`padding_mode_problem`, checked in
    torch's order (the padding mode first, as ``nn.Conv*d`` pads before it convolves)."""
    try:
        pads = resolve_padding(padding, kernel_size, stride, dilation)
    except ValueError as error:  # 'same' with stride > 1
        return ConvOutcome(None, size, None, str(error))
    padded_size = size + pads[0] + pads[1]
    problem = padding_mode_problem(size, *pads, padding_mode)
    if problem is not None:
        return ConvOutcome(pads, padded_size, None, problem)
    try:
        return ConvOutcome(pads, padded_size, conv_output_size(size, kernel_size, stride, padding, dilation), None)
    except ValueError as error:
        return ConvOutcome(pads, padded_size, None, str(error))


def _padding_note(dims: int, kernel_size: int, stride: int, padding, dilation: int) -> str:
    sides = "every side" if dims == 2 else "both ends"
    total = effective_kernel_size(kernel_size, dilation) - 1
    spread = f"d(k{MINUS}1) = {dilation}{TIMES}({kernel_size}{MINUS}1) = {total}"
    if padding == "valid":
        return "padding='valid': no padding, p = 0"
    if padding == "full":
        return f"'full' (no such word in torch: the layer takes the int): p = {spread} on {sides}"
    if padding == "same":
        left, right = same_padding(kernel_size, dilation)
        first, last = ("top/left", "bottom/right") if dims == 2 else ("left", "right")
        split = "" if left == right else ": torch puts the odd one at the end"
        return (
            f"padding='same': total {spread}, split {left} on the {first} (\u230a{total}/2\u230b), "
            f"{right} on the {last}{split}"
        )
    return f"padding p = {padding} on {sides}"


def _reached(padded_size: int, output_size: int, kernel_size: int, stride: int, dilation: int):
    """Per padded index: is it under some tap of some output? And each output's first tap."""
    starts = torch.arange(output_size) * stride
    taps = (starts[:, None] + dilation * torch.arange(kernel_size)[None, :]).reshape(-1)
    reached = torch.zeros(padded_size, dtype=torch.bool)
    reached[taps] = True
    return reached, tuple(starts.tolist())


def _unreached_note(dims: int, unreached: list[int], pads, span: int, stride: int, dilation: int) -> str:
    padded_size = sum(pads)  # (left, right, input size)
    numerator = padded_size - span
    left_over = numerator % stride
    padding = "2p" if pads[0] == pads[1] else "p_l + p_r"
    if unreached == list(range(padded_size - left_over, padded_size)):  # only the end: the last window stops short
        what = (
            ("row and column" if left_over == 1 else "rows and columns")
            if dims == 2
            else "cell" + "s" * (left_over > 1)
        )
        return (
            f"(i + {padding} {MINUS} d(k{MINUS}1) {MINUS} 1) = {numerator} is not a multiple of s = {stride}: the last "
            f"{left_over} {what} of the padded input never fall under a tap"
        )
    which = "rows and columns" if dims == 2 else "padded cells"
    where = ", ".join(str(i) for i in unreached)
    return f"{which} {where} never fall under a tap (stride {stride}, dilation {dilation}): the kernel steps over them"


def conv_picture(
    dims: int,
    size: int,
    kernel_size: int,
    stride: int = 1,
    padding=0,
    dilation: int = 1,
    padding_mode: str = "zeros",
    position: int = 0,
) -> ConvPicture:
    """Everything the convolution-arithmetic explorer draws for one configuration, on :func:`demo_input`.

    ``padding``: an int, "valid", "same" or "full"; ``position``: the output cell to show, row-major in 2-D,
    held at the last cell when it is past the end. Never raises for a configuration torch refuses: ``problem``
    says why instead (from the ValueError of :mod:`cnn_lessons.arithmetic` or :func:`padding_mode_problem`).
    """
    if dims not in (1, 2):
        raise ValueError(f"dims must be 1 or 2, got {dims!r}")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
    x = demo_input(size, dims)
    span = effective_kernel_size(kernel_size, dilation)
    line = torch_line(dims, kernel_size, stride, padding, dilation, padding_mode)
    pads, padded_size, output_size, problem = conv_outcome(size, kernel_size, stride, padding, dilation, padding_mode)
    if pads is None:  # 'same' with stride > 1: draw the input alone
        formula = f"o = \u230a(i + 2p {MINUS} d(k{MINUS}1) {MINUS} 1)/s\u230b + 1: no p fits"
        notes = ("padding='same' keeps the size only with stride 1",)
    else:
        formula = output_size_formula(size, kernel_size, stride, padding, dilation)
        notes = [_padding_note(dims, kernel_size, stride, padding, dilation)]
        if dilation > 1:
            notes.append(
                f"dilation {dilation}: the {kernel_size} taps spread over d(k{MINUS}1) + 1 = {span} cells, "
                f"{dilation - 1} cell{'s' if dilation > 2 else ''} apart"
            )
        notes = tuple(notes)

    is_padding = torch.ones((padded_size,) * dims, dtype=torch.bool)
    inner = slice(pads[0], pads[0] + size) if pads else slice(0, size)
    is_padding[(inner,) * dims] = False
    padded = None
    if pads is not None and padding_mode_problem(size, *pads, padding_mode) is None:
        padded = pad_input(x, [pads] * dims, padding_mode)
    elif pads is None:
        padded = x

    if output_size is None:
        empty = torch.zeros(0, dtype=torch.long)
        return ConvPicture(
            dims, size, kernel_size, stride, padding, dilation, padding_mode, x, pads, padded_size, span, None,
            problem, (), 0, padded, is_padding, (empty,) * dims, torch.zeros(padded_size, dtype=torch.bool), (),
            formula, notes, line,
        )  # fmt: skip

    cells = output_size**dims
    flat = min(check_int("position", position, minimum=0), cells - 1)
    ones = torch.ones((kernel_size,) * dims)
    if dims == 1:
        step = ops.window_step1d(x, ones, flat, stride=stride, padding=padding, dilation=dilation)
        taps = (step.cols,)
    else:
        row_col = divmod(flat, output_size)
        step = ops.window_step2d(x, ones, row_col, stride=stride, padding=padding, dilation=dilation)
        taps = (step.rows, step.cols)
    assert step.output_shape == (output_size,) * dims and step.padded.shape == (padded_size,) * dims
    reached, starts = _reached(padded_size, output_size, kernel_size, stride, dilation)
    unreached = (~reached).nonzero().flatten().tolist()
    if unreached:
        notes = (*notes, _unreached_note(dims, unreached, (*pads, size), span, stride, dilation))
    return ConvPicture(
        dims, size, kernel_size, stride, padding, dilation, padding_mode, x, pads, padded_size, span, output_size,
        None, step.position, flat, padded, is_padding, taps, reached, starts, formula, notes, line,
    )  # fmt: skip


# --- a stack of layers: the receptive field -------------------------------------------------------------------


class RFPicture(NamedTuple):
    """What the receptive-field explorer shows for a stack of valid (unpadded) layers over a 1-D input.

    ``sizes[0]`` is the input length, ``sizes[l]`` layer l's output length (as many as fit: when layer m does not
    fit, ``problem`` says why and ``sizes`` stops at m - 1). ``fields[l]`` / ``jumps[l]``: the receptive field of
    one cell of layer l in input cells, and how many input cells apart its neighbours' fields start.
    ``influence[l]``: the cells of layer l that feed the chosen output (sorted; empty without an output),
    ``edges``: (layer, cell, cell in the layer below) for every tap between them.
    """

    layers: tuple[tuple[int, int, int], ...]
    sizes: tuple[int, ...]
    fields: tuple[int, ...]
    jumps: tuple[int, ...]
    field: int
    problem: str | None
    position: int
    influence: tuple[tuple[int, ...], ...]
    edges: tuple[tuple[int, int, int], ...]
    formula: str

    @property
    def last_position(self) -> int:
        """The last layer's last cell (0 when the stack does not fit): a position slider's maximum."""
        return 0 if self.problem is not None else self.sizes[-1] - 1


def receptive_field_formula(layers) -> str:
    """r = 1 + Σ d_l (k_l − 1) Π_{m<l} s_m written out on two lines, the numbers on the second, e.g.
    ``r = 1 + Σ d_l(k_l−1)·Π_(m<l) s_m`` and ``  = 1 + 1·(3−1)·1 + 1·(3−1)·1 + 1·(3−1)·2 = 1 + 2 + 2 + 4 = 9``.
    """
    layers = [tuple(layer) + (1,) * (3 - len(layer)) for layer in layers]
    general = f"r = 1 + \u03a3 d_l(k_l{MINUS}1){TIMES}\u03a0_(m<l) s_m"
    if not layers:
        return f"{general} = 1"
    jump, filled, terms = 1, [], []
    for kernel_size, stride, dilation in layers:
        filled.append(f"{dilation}{TIMES}({kernel_size}{MINUS}1){TIMES}{jump}")
        terms.append(dilation * (kernel_size - 1) * jump)
        jump *= stride
    total = receptive_field(layers)
    assert 1 + sum(terms) == total
    sums = " + ".join(str(t) for t in terms)
    middle = f" = 1 + {sums}" if len(terms) > 1 else ""
    return f"{general}\n  = 1 + {' + '.join(filled)}{middle} = {total}"


def receptive_field_picture(layers, input_size: int, position: int = 0) -> RFPicture:
    """The receptive field of one output of a stack of unpadded 1-D layers ``(kernel, stride, dilation)``.

    ``position``: the cell of the last layer whose inputs are traced (held at the last cell when past the end).
    Cell i of layer l reads cells i*s_l + j*d_l (j < k_l) of the layer below; following those taps down from the
    chosen cell gives ``influence``, whose extent on the input is the receptive field
    (:func:`cnn_lessons.arithmetic.receptive_field`). With dilation the field can have holes: cells inside it
    that feed nothing.
    """
    layers = tuple(
        (
            check_int(f"kernel_size of layer {n + 1}", layer[0]),
            check_int(f"stride of layer {n + 1}", layer[1]),
            check_int(f"dilation of layer {n + 1}", layer[2] if len(layer) > 2 else 1),
        )
        for n, layer in enumerate(layers)
    )
    input_size = check_int("input_size", input_size)
    fields = tuple(receptive_field(layers[:n]) for n in range(len(layers) + 1))
    jumps = [1]
    for _, stride, _ in layers:
        jumps.append(jumps[-1] * stride)
    sizes, problem = [input_size], None
    for n, (kernel_size, stride, dilation) in enumerate(layers):
        try:
            sizes.append(conv_output_size(sizes[-1], kernel_size, stride, 0, dilation))
        except ValueError as error:
            below = "the input" if n == 0 else f"layer {n}"
            problem = f"layer {n + 1} does not fit on {below} ({sizes[-1]} cells): {error}"
            break
    formula = receptive_field_formula(layers)
    if problem is not None:
        return RFPicture(layers, tuple(sizes), fields, tuple(jumps), fields[-1], problem, 0, (), (), formula)
    position = min(check_int("position", position, minimum=0), sizes[-1] - 1)
    influence = [[position]]
    edges = []
    for n in range(len(layers), 0, -1):  # layer n reads the layer below it, n - 1
        kernel_size, stride, dilation = layers[n - 1]
        below = set()
        for i in influence[0]:
            for j in range(kernel_size):
                below.add(i * stride + j * dilation)
                edges.append((n, i, i * stride + j * dilation))
        influence.insert(0, sorted(below))
    assert influence[0][-1] - influence[0][0] + 1 == fields[-1]
    return RFPicture(
        layers,
        tuple(sizes),
        fields,
        tuple(jumps),
        fields[-1],
        None,
        position,
        tuple(tuple(cells) for cells in influence),
        tuple(edges),
        formula,
    )
