"""Convolution from scratch: correlation and true convolution in 1-D and 2-D, and ``conv2d`` via im2col.

Every function here gives the same numbers as its torch twin (``F.conv1d``, ``F.conv2d``), which the tests
check over many random configurations. Three ways to compute the same thing, for reading and for speed:

- ``correlate1d_loops`` / ``correlate2d_loops``: explicit loops, one output at a time, the definition as is;
- ``correlate1d`` / ``correlate2d``: every window at once with ``Tensor.unfold``, then one weighted sum;
- ``conv2d``: batches and channels, im2col (``F.unfold``) followed by one matrix product per group.

A transposed convolution is a direct one too (Dumoulin & Visin, arXiv:1603.07285, section 4): ``stretch`` puts
zeros between an input's values, and ``conv_transpose2d_as_direct`` correlates the stretched, padded input with
the flipped kernel, giving what ``F.conv_transpose2d`` gives. ``conv_matrix`` writes a single-channel correlation
as one (banded, mostly zero) matrix C, whose transpose is the transposed convolution and the backward pass with
respect to the input; ``conv_transpose2d`` computes it from scratch (one matmul per group, then col2im with
``F.fold``), and ``overlap_counts`` counts the kernel copies it stamps on each output cell (lesson 05).

``convolve*`` is true convolution: the kernel flipped along every axis, then correlated. Deep-learning
libraries call correlation "convolution"; ``window_step1d/2d`` show one output at a time for the explorers.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from cnn_lessons.arithmetic import (
    check_int,
    conv_output_size,
    conv_transpose_output_size,
    effective_kernel_size,
    resolve_padding,
)

__all__ = [
    "PADDING_MODES",
    "padding_mode_problem",
    "pad_input",
    "correlate1d",
    "convolve1d",
    "correlate2d",
    "convolve2d",
    "correlate1d_loops",
    "correlate2d_loops",
    "conv2d",
    "stretch",
    "conv_transpose2d_as_direct",
    "conv_matrix",
    "conv_transpose2d",
    "overlap_counts",
    "window_step1d",
    "window_step2d",
    "WindowStep",
    "CLASSIC_KERNELS",
    "batch_norm2d",
]

AXES = ("height", "width")


# --- input checks -------------------------------------------------------------------------------------------


def as_float_tensor(value, name: str, ndim: int | tuple[int, ...]) -> torch.Tensor:
    """``torch.as_tensor`` plus a rank check; integer and boolean input become the default float dtype."""
    try:
        tensor = torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(f"{name} must be a tensor or something torch.as_tensor takes: {error}") from None
    ranks = (ndim,) if isinstance(ndim, int) else ndim
    if tensor.dim() not in ranks:
        wanted = " or ".join(f"{r}-D" for r in ranks)
        raise ValueError(f"{name} must be {wanted}, got a {tensor.dim()}-D tensor of shape {tuple(tensor.shape)}")
    if tensor.is_complex():
        raise TypeError(f"{name} must be real, got dtype {tensor.dtype}")
    if not tensor.is_floating_point():
        tensor = tensor.to(torch.get_default_dtype())
    if tensor.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(tensor.shape)}); it needs at least one element per axis")
    return tensor


def _common(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    dtype = torch.promote_types(a.dtype, b.dtype)
    if a.device != b.device:
        raise ValueError(f"the input is on {a.device} but the kernel is on {b.device}; move both to one device")
    return a.to(dtype), b.to(dtype)


def _batch_and_kernel(input, weight) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """Checked NCHW input (a CHW one gets a batch axis), 4-D weight, one dtype and device; was it unbatched?"""
    x = as_float_tensor(input, "input", (3, 4))
    w = as_float_tensor(weight, "weight", 4)
    x, w = _common(x, w)
    unbatched = x.dim() == 3
    return (x.unsqueeze(0) if unbatched else x), w, unbatched


def pair(value, name: str):
    """An int (or padding word) for both axes, or an (h, w) pair."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or an (h, w) pair, got {value!r}")
        return tuple(value)
    return value, value


def _plan_axis(size: int, kernel_size: int, stride, padding, dilation, axis: str):
    """Checked (stride, (left, right), dilation, output size) for one axis, errors naming the axis."""
    try:
        stride = check_int("stride", stride)
        dilation = check_int("dilation", dilation)
        left, right = resolve_padding(padding, kernel_size, stride, dilation)
        out = conv_output_size(size, kernel_size, stride, padding, dilation)
    except ValueError as error:
        if axis:
            raise ValueError(f"along the {axis}: {error}") from None
        raise
    return stride, (left, right), dilation, out


# --- 1-D ----------------------------------------------------------------------------------------------------


def correlate1d(signal, kernel, stride=1, padding=0, dilation=1) -> torch.Tensor:
    """Cross-correlation of a 1-D signal with a 1-D kernel: out[i] = sum_j x[i*s + j*d] * w[j] (padded x).

    Equals ``F.conv1d(signal[None, None], kernel[None, None], ...)[0, 0]``. ``padding``: int, "valid",
    "same" or "full".
    """
    x = as_float_tensor(signal, "signal", 1)
    w = as_float_tensor(kernel, "kernel", 1)
    x, w = _common(x, w)
    stride, (left, right), dilation, _ = _plan_axis(len(x), len(w), stride, padding, dilation, "")
    x = F.pad(x, (left, right))
    windows = x.unfold(0, effective_kernel_size(len(w), dilation), stride)[:, ::dilation]
    return windows @ w


def convolve1d(signal, kernel, stride=1, padding=0, dilation=1) -> torch.Tensor:
    """True 1-D convolution: the kernel reversed, then :func:`correlate1d`."""
    w = as_float_tensor(kernel, "kernel", 1)
    return correlate1d(signal, w.flip(0), stride, padding, dilation)


def correlate1d_loops(signal, kernel, stride=1, padding=0, dilation=1) -> torch.Tensor:
    """:func:`correlate1d` written as the definition reads: one output position at a time."""
    x = as_float_tensor(signal, "signal", 1)
    w = as_float_tensor(kernel, "kernel", 1)
    x, w = _common(x, w)
    stride, (left, right), dilation, out_size = _plan_axis(len(x), len(w), stride, padding, dilation, "")
    x = F.pad(x, (left, right))
    out = torch.zeros(out_size, dtype=x.dtype)
    for i in range(out_size):
        for j in range(len(w)):
            out[i] += x[i * stride + j * dilation] * w[j]
    return out


# --- 2-D ----------------------------------------------------------------------------------------------------


def _plan2d(x: torch.Tensor, w: torch.Tensor, stride, padding, dilation):
    strides, paddings, dilations = (
        pair(stride, "stride"),
        pair(padding, "padding"),
        pair(dilation, "dilation"),
    )
    return [
        _plan_axis(x.shape[axis], w.shape[axis], strides[axis], paddings[axis], dilations[axis], AXES[axis])
        for axis in (0, 1)
    ]


def _pad2d(x: torch.Tensor, plans) -> torch.Tensor:
    (top, bottom), (left, right) = plans[0][1], plans[1][1]
    return F.pad(x, (left, right, top, bottom))


def correlate2d(image, kernel, stride=1, padding=0, dilation=1) -> torch.Tensor:
    """2-D cross-correlation: out[i, j] = sum_{a,b} x[i*sh + a*dh, j*sw + b*dw] * w[a, b] (padded x).

    Equals ``F.conv2d(image[None, None], kernel[None, None], ...)[0, 0]``. stride, padding and dilation take
    an int or an (h, w) pair; padding also "valid", "same" or "full".
    """
    x = as_float_tensor(image, "image", 2)
    w = as_float_tensor(kernel, "kernel", 2)
    x, w = _common(x, w)
    plans = _plan2d(x, w, stride, padding, dilation)
    (sh, _, dh, _), (sw, _, dw, _) = plans
    x = _pad2d(x, plans)
    eh, ew = effective_kernel_size(w.shape[0], dh), effective_kernel_size(w.shape[1], dw)
    windows = x.unfold(0, eh, sh).unfold(1, ew, sw)[:, :, ::dh, ::dw]  # (out_h, out_w, kh, kw)
    return torch.einsum("ijab,ab->ij", windows, w)


def convolve2d(image, kernel, stride=1, padding=0, dilation=1) -> torch.Tensor:
    """True 2-D convolution: the kernel flipped up-down and left-right, then :func:`correlate2d`."""
    w = as_float_tensor(kernel, "kernel", 2)
    return correlate2d(image, w.flip(0, 1), stride, padding, dilation)


def correlate2d_loops(image, kernel, stride=1, padding=0, dilation=1) -> torch.Tensor:
    """:func:`correlate2d` written as the definition reads: four nested loops."""
    x = as_float_tensor(image, "image", 2)
    w = as_float_tensor(kernel, "kernel", 2)
    x, w = _common(x, w)
    plans = _plan2d(x, w, stride, padding, dilation)
    (sh, _, dh, out_h), (sw, _, dw, out_w) = plans
    x = _pad2d(x, plans)
    kh, kw = w.shape
    out = torch.zeros(out_h, out_w, dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            for a in range(kh):
                for b in range(kw):
                    out[i, j] += x[i * sh + a * dh, j * sw + b * dw] * w[a, b]
    return out


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> torch.Tensor:
    """From-scratch twin of ``torch.nn.functional.conv2d`` (NCHW, or CHW unbatched): im2col + matmul.

    ``F.unfold`` lays every receptive-field window out as a column (im2col); each group's kernels, flattened
    to rows, then multiply those columns in one matrix product.
    """
    x, w, unbatched = _batch_and_kernel(input, weight)
    groups = check_int("groups", groups)
    batch, in_channels, height, width = x.shape
    out_channels, group_in, kh, kw = w.shape
    if out_channels % groups:
        raise ValueError(
            f"weight has {out_channels} output channels, which groups={groups} cannot split evenly; "
            f"use a number of kernels divisible by {groups}"
        )
    if in_channels != group_in * groups:
        raise ValueError(
            f"input has {in_channels} channels, but weight of shape {tuple(w.shape)} with groups={groups} "
            f"expects {group_in} x {groups} = {group_in * groups}; the weight's second axis is in_channels/groups"
        )
    if bias is not None:
        b = as_float_tensor(bias, "bias", 1).to(x.dtype)
        if b.shape[0] != out_channels:
            raise ValueError(f"bias must have one entry per output channel ({out_channels}), got {b.shape[0]}")
    plans = _plan2d(x[0, 0], w[0, 0], stride, padding, dilation)
    (sh, _, dh, out_h), (sw, _, dw, out_w) = plans
    x = _pad2d(x, plans)
    columns = F.unfold(x, (kh, kw), dilation=(dh, dw), stride=(sh, sw))  # (N, C*kh*kw, L)
    columns = columns.view(batch, groups, group_in * kh * kw, out_h * out_w)
    rows = w.reshape(groups, out_channels // groups, group_in * kh * kw)  # reshape: w may be a transposed view
    out = torch.einsum("gok,ngkl->ngol", rows, columns).reshape(batch, out_channels, out_h, out_w)
    if bias is not None:
        out = out + b.view(1, -1, 1, 1)
    return out[0] if unbatched else out


# --- transposed convolution as a direct convolution ----------------------------------------------------------


def stretch(x, stride) -> torch.Tensor:
    """Insert ``stride - 1`` zeros between neighbouring values along the last two axes (2-D, CHW or NCHW).

    An (h, w) input becomes ((h - 1) * sh + 1, (w - 1) * sw + 1); ``stride`` is an int or an (h, w) pair. The
    dtype is kept (integers stay integers). This is the input of the direct convolution that a stride-s
    transposed convolution equals (:func:`conv_transpose2d_as_direct`).
    """
    try:
        tensor = torch.as_tensor(x)
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(f"x must be a tensor or something torch.as_tensor takes: {error}") from None
    if tensor.dim() not in (2, 3, 4):
        raise ValueError(
            f"x must be 2-D (h, w), 3-D (c, h, w) or 4-D (n, c, h, w); got a {tensor.dim()}-D tensor of shape "
            f"{tuple(tensor.shape)}"
        )
    if tensor.numel() == 0:
        raise ValueError(f"x is empty (shape {tuple(tensor.shape)}); it needs at least one value per axis")
    sh, sw = (check_int(f"stride ({axis})", s) for axis, s in zip(AXES, pair(stride, "stride"), strict=True))
    h, w = tensor.shape[-2:]
    out = tensor.new_zeros(*tensor.shape[:-2], (h - 1) * sh + 1, (w - 1) * sw + 1)
    out[..., ::sh, ::sw] = tensor
    return out


def _direct_padding(size: int, kernel_size: int, stride: int, padding, output_padding, axis: str) -> tuple[int, int]:
    """(before, after) zeros around the stretched input along one axis: k-1-p, plus output_padding after."""
    try:
        padding = check_int("padding", padding, minimum=0)
        output_padding = check_int("output_padding", output_padding, minimum=0)
        if padding > kernel_size - 1:
            raise ValueError(
                f"padding {padding} is more than kernel_size - 1 = {kernel_size - 1}: the direct convolution "
                f"would need k - 1 - p = {kernel_size - 1 - padding} zeros around the stretched input, i.e. "
                f"cropping it, which this construction does not do; use padding at most {kernel_size - 1} "
                f"(F.conv_transpose2d crops instead)"
            )
        if output_padding >= stride:
            raise ValueError(
                f"output_padding {output_padding} must be smaller than stride {stride}: a stride-{stride} "
                f"convolution maps {stride} neighbouring input sizes to one output size, and output_padding "
                f"(0 to {stride - 1}) picks which of them to give back"
            )
        conv_transpose_output_size(size, kernel_size, stride, padding, output_padding)
    except ValueError as error:
        raise ValueError(f"along the {axis}: {error}") from None
    before = kernel_size - 1 - padding
    return before, before + output_padding


def conv_transpose2d_as_direct(input, weight, stride=1, padding=0, output_padding=0) -> torch.Tensor:
    """``F.conv_transpose2d(input, weight, stride=..., padding=..., output_padding=...)`` as a direct convolution.

    The guide's construction (Dumoulin & Visin, arXiv:1603.07285, relationships 8-14): :func:`stretch` the
    input by the stride, pad it with k - 1 - p zeros on each side (plus ``output_padding`` at the bottom and
    right), then correlate it (:func:`conv2d`, stride 1) with the kernel flipped in both spatial axes and its
    in/out channel axes swapped. ``input``: NCHW (or CHW unbatched); ``weight``: (in, out, kh, kw), torch's
    layout for transposed convolutions; stride, padding and output_padding take an int or an (h, w) pair, with
    padding at most k - 1 and output_padding smaller than stride. Floating dtypes are kept.
    """
    x, w, unbatched = _batch_and_kernel(input, weight)
    if x.shape[1] != w.shape[0]:
        raise ValueError(
            f"input has {x.shape[1]} channels, but a transposed convolution's weight is (in, out, kh, kw) and "
            f"this one, of shape {tuple(w.shape)}, expects {w.shape[0]}; its first axis must be the input's channels"
        )
    strides = [check_int(f"stride ({axis})", s) for axis, s in zip(AXES, pair(stride, "stride"), strict=True)]
    (top, bottom), (left, right) = (
        _direct_padding(x.shape[2 + a], w.shape[2 + a], strides[a], p, op, AXES[a])
        for a, p, op in zip((0, 1), pair(padding, "padding"), pair(output_padding, "output_padding"), strict=True)
    )
    padded = F.pad(stretch(x, strides), (left, right, top, bottom))
    out = conv2d(padded, w.flip(-2, -1).transpose(0, 1))
    return out[0] if unbatched else out


# --- one output at a time, for the step-through explorers ---------------------------------------------------


class WindowStep(NamedTuple):
    """Everything one output position of a correlation (or convolution) is made of.

    ``padded``: the input after padding; ``rows``/``cols``: the padded-input indices under the kernel taps
    (``rows`` is None in 1-D); ``window``: the input values there; ``kernel``: the kernel as applied (flipped
    for convolution); ``products``: window * kernel; ``total``: their sum, the output value.
    """

    position: tuple[int, ...]
    padded: torch.Tensor
    rows: torch.Tensor | None
    cols: torch.Tensor
    window: torch.Tensor
    kernel: torch.Tensor
    products: torch.Tensor
    total: float
    output_shape: tuple[int, ...]


def _check_position(position: int, size: int, axis: str) -> int:
    position = check_int(f"position{axis}", position, minimum=0)
    if position >= size:
        raise ValueError(f"position{axis} {position} is outside the output, which has {size} positions (0..{size - 1})")
    return position


def window_step1d(signal, kernel, position, stride=1, padding=0, dilation=1, flip=False) -> WindowStep:
    """The window, products and sum behind ``correlate1d(...)[position]`` (or ``convolve1d`` if ``flip``)."""
    x = as_float_tensor(signal, "signal", 1)
    w = as_float_tensor(kernel, "kernel", 1)
    x, w = _common(x, w)
    w = w.flip(0) if flip else w
    stride, (left, right), dilation, out_size = _plan_axis(len(x), len(w), stride, padding, dilation, "")
    i = _check_position(position, out_size, "")
    padded = F.pad(x, (left, right))
    cols = i * stride + dilation * torch.arange(len(w))
    window = padded[cols]
    products = window * w
    return WindowStep((i,), padded, None, cols, window, w, products, float(products.sum()), (out_size,))


def window_step2d(image, kernel, position, stride=1, padding=0, dilation=1, flip=False) -> WindowStep:
    """The window, products and sum behind ``correlate2d(...)[i, j]`` (or ``convolve2d`` if ``flip``)."""
    x = as_float_tensor(image, "image", 2)
    w = as_float_tensor(kernel, "kernel", 2)
    x, w = _common(x, w)
    w = w.flip(0, 1) if flip else w
    plans = _plan2d(x, w, stride, padding, dilation)
    (sh, _, dh, out_h), (sw, _, dw, out_w) = plans
    row, col = pair(position, "position")
    i = _check_position(row, out_h, " (row)")
    j = _check_position(col, out_w, " (column)")
    padded = _pad2d(x, plans)
    rows = i * sh + dh * torch.arange(w.shape[0])
    cols = j * sw + dw * torch.arange(w.shape[1])
    window = padded[rows][:, cols]
    products = window * w
    return WindowStep((i, j), padded, rows, cols, window, w, products, float(products.sum()), (out_h, out_w))


# --- classic hand-made kernels (lesson 01) ------------------------------------------------------------------

CLASSIC_KERNELS: dict[str, torch.Tensor] = {
    "identity": torch.tensor([[0.0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "box blur": torch.full((3, 3), 1 / 9),
    "sharpen": torch.tensor([[0.0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "sobel x": torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel y": torch.tensor([[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "laplacian": torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]),
}
"""Hand-designed 3x3 kernels, written for correlation (as torch applies them): the Sobel x kernel responds
positively where brightness increases to the right, Sobel y where it increases downwards."""


PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
"""``padding_mode`` of ``nn.Conv1d/2d``: what the padding cells hold."""


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
    try:
        x = torch.as_tensor(x)
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(f"x must be a tensor or something torch.as_tensor takes: {error}") from None
    if x.dim() not in (1, 2):
        raise ValueError(f"x must be 1-D or 2-D, got a {x.dim()}-D tensor of shape {tuple(x.shape)}")
    pairs = isinstance(pads, (tuple, list)) and all(isinstance(p, (tuple, list)) and len(p) == 2 for p in pads)
    if not pairs or len(pads) != x.dim():
        example = [(1, 1)] * x.dim()
        raise ValueError(
            f"pads must hold one (left, right) pair per axis of x ({x.dim()} for shape {tuple(x.shape)}), e.g. "
            f"{example}, got {pads!r}"
        )
    pads = [tuple(check_int(f"pads[{axis}]", p, minimum=0) for p in pair) for axis, pair in enumerate(pads)]
    for axis, (left, right) in enumerate(pads):
        problem = padding_mode_problem(x.shape[axis], left, right, mode)
        if problem:
            raise ValueError(problem)
    flat = [p for pair in reversed(pads) for p in pair]  # F.pad takes the last axis first
    batched = x.to(torch.get_default_dtype())[None, None]
    padded = F.pad(batched, flat) if mode == "zeros" else F.pad(batched, flat, mode=mode)
    return padded[0, 0].to(x.dtype)


# --- batch normalisation (lesson 06) ------------------------------------------------------------------------


def _per_channel(value, name: str, channels: int, like: torch.Tensor) -> torch.Tensor | None:
    """``value`` as a 1-D tensor of one entry per channel (None stays None), on ``like``'s device."""
    if value is None:
        return None
    if not isinstance(value, torch.Tensor):
        value = as_float_tensor(value, name, 1)
    if value.dim() != 1 or value.shape[0] != channels:
        raise ValueError(
            f"{name} must hold one value per channel: shape ({channels},) for an input with {channels} channels "
            f"(axis 1 of N, C, H, W), got shape {tuple(value.shape)}"
        )
    if value.device != like.device:
        raise ValueError(f"{name} is on {value.device} but the input is on {like.device}; move both to one device")
    return value


def batch_norm2d(
    x,
    running_mean=None,
    running_var=None,
    weight=None,
    bias=None,
    training: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> torch.Tensor:
    """From-scratch twin of ``F.batch_norm`` on an (N, C, H, W) batch; running statistics updated in place.

    Per channel c, over the N * H * W values of that channel: in training mode the batch's mean and its biased
    variance (divided by N*H*W) normalise, ``(x - mean) / sqrt(var + eps) * weight + bias``, and, when given,
    ``running_mean`` and ``running_var`` move towards the batch's mean and its *unbiased* variance (divided by
    N*H*W - 1): ``running = (1 - momentum) * running + momentum * batch``, in place, outside autograd. In eval
    mode (``training=False``) the running statistics normalise instead, and nothing is updated. ``weight`` (the
    scale, gamma) and ``bias`` (the shift, beta) are optional, one value per channel.
    """
    # long: every argument is checked with its own teaching message before the few lines of arithmetic
    x = as_float_tensor(x, "x (an N, C, H, W batch)", 4)
    if not isinstance(training, bool):
        raise TypeError(f"training must be True or False, got {training!r} ({type(training).__name__})")
    for name, value in (("momentum", momentum), ("eps", eps)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(
            f"momentum must be between 0 and 1 (the weight of the new batch in the running average), got {momentum}"
        )
    if eps < 0:
        raise ValueError(f"eps must be >= 0 (it keeps the division away from 0), got {eps}")
    channels = x.shape[1]
    running_mean = _per_channel(running_mean, "running_mean", channels, x)
    running_var = _per_channel(running_var, "running_var", channels, x)
    weight = _per_channel(weight, "weight", channels, x)
    bias = _per_channel(bias, "bias", channels, x)
    if (running_mean is None) != (running_var is None):
        raise ValueError("give both running_mean and running_var, or neither")
    count = x.shape[0] * x.shape[2] * x.shape[3]  # values per channel
    if training:
        if count == 1:
            raise ValueError(
                f"in training mode each channel needs more than one value to have a variance, but an input of "
                f"shape {tuple(x.shape)} has N*H*W = 1 per channel. Evaluate with training=False (model.eval()), "
                f"which uses the running statistics, or train on a batch of at least 2"
            )
        mean = x.mean(dim=(0, 2, 3))
        var = ((x - mean.view(1, -1, 1, 1)) ** 2).mean(dim=(0, 2, 3))  # biased: divided by N*H*W
        if running_mean is not None:
            with torch.no_grad():
                unbiased = var.detach() * count / (count - 1)
                running_mean.mul_(1 - momentum).add_(mean.detach().to(running_mean.dtype), alpha=momentum)
                running_var.mul_(1 - momentum).add_(unbiased.to(running_var.dtype), alpha=momentum)
    else:
        if running_mean is None:
            raise ValueError(
                "eval mode (training=False) normalises with the running statistics, but running_mean and "
                "running_var are None; pass them (a BatchNorm2d's buffers), or use training=True for the "
                "batch's own statistics"
            )
        mean, var = running_mean.to(x.dtype), running_var.to(x.dtype)
    y = (x - mean.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) + eps)
    if weight is not None:
        y = y * weight.view(1, -1, 1, 1)
    if bias is not None:
        y = y + bias.view(1, -1, 1, 1)
    return y


# --- convolution as a matrix, and transposed convolution from scratch ------------------------------------------


def conv_matrix(weight, input_size, stride=1, padding=0, dilation=1) -> torch.Tensor:
    """The dense matrix C of a single-channel 2-D correlation: ``C @ x.flatten() == F.conv2d(x, weight).flatten()``.

    ``weight``: (kh, kw); ``input_size``: an int or (h, w). C has one row per output position and one column per
    input position (row-major), and holds ``weight[a, b]`` where output (i, j)'s tap (a, b) lands on an input cell
    (taps on padding zeros have no column). Built with differentiable indexing, so gradients reach ``weight``.
    stride, padding and dilation take an int or an (h, w) pair; padding also "valid", "same" or "full".
    Its transpose C^T is the transposed convolution (and the backward pass with respect to the input).
    """
    w = as_float_tensor(weight, "weight", 2)
    h, width = (
        check_int(f"input_size ({axis})", n) for axis, n in zip(AXES, pair(input_size, "input_size"), strict=True)
    )
    plans = _plan2d(torch.empty(h, width), w, stride, padding, dilation)
    (sh, (top, _), dh, out_h), (sw, (left, _), dw, out_w) = plans
    kh, kw = w.shape
    rows = torch.arange(out_h)[:, None, None, None] * sh + torch.arange(kh)[None, None, :, None] * dh - top
    cols = torch.arange(out_w)[None, :, None, None] * sw + torch.arange(kw)[None, None, None, :] * dw - left
    rows, cols = torch.broadcast_tensors(rows, cols)  # (out_h, out_w, kh, kw): the input cell under each tap
    output = torch.arange(out_h * out_w).view(out_h, out_w, 1, 1).expand_as(rows)
    taps = w.expand(out_h, out_w, kh, kw)
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < width)
    matrix = w.new_zeros(out_h * out_w, h * width)
    return matrix.index_put((output[inside], rows[inside] * width + cols[inside]), taps[inside], accumulate=True)


def _transposed_axis(size: int, kernel_size: int, stride, padding, output_padding, dilation, axis: str):
    """Checked (stride, padding, output_padding, dilation, output size) of one axis, errors naming the axis."""
    try:
        stride = check_int("stride", stride)
        padding = check_int("padding", padding, minimum=0)
        output_padding = check_int("output_padding", output_padding, minimum=0)
        dilation = check_int("dilation", dilation)
        if output_padding >= max(stride, dilation):
            raise ValueError(
                f"output_padding {output_padding} must be smaller than stride {stride} or dilation {dilation} "
                f"(torch refuses it otherwise): a stride-{stride} convolution maps {stride} neighbouring input sizes "
                f"to one output size, and output_padding (0 to {max(stride, dilation) - 1}) picks which of them "
                f"to give back"
            )
        out = conv_transpose_output_size(size, kernel_size, stride, padding, output_padding, dilation)
    except ValueError as error:
        raise ValueError(f"along the {axis}: {error}") from None
    return stride, padding, output_padding, dilation, out


def conv_transpose2d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
) -> torch.Tensor:
    """From-scratch twin of ``torch.nn.functional.conv_transpose2d`` (NCHW, or CHW unbatched): matmul + col2im.

    Each input value stamps a copy of the kernel, scaled by that value, on the output, ``stride`` cells apart
    (overlapping copies add up): one matrix product per group makes every scaled copy as a column, and
    ``F.fold`` (col2im, the reverse of the ``F.unfold`` in :func:`conv2d`) adds them up in place. Then
    ``output_padding`` adds rows and columns at the bottom and right, and ``padding`` crops from every side.
    ``weight``: (in_channels, out_channels / groups, kh, kw), torch's layout; stride, padding, output_padding and
    dilation take an int or an (h, w) pair; output_padding must be smaller than stride or dilation.
    """
    # long: the input checks of conv2d (ranks, groups, channels, bias, per-axis sizes) come before the three steps
    x, w, unbatched = _batch_and_kernel(input, weight)
    groups = check_int("groups", groups)
    batch, in_channels, height, width = x.shape
    weight_in, group_out, kh, kw = w.shape
    if weight_in != in_channels:
        raise ValueError(
            f"input has {in_channels} channels, but a transposed convolution's weight is (in, out/groups, kh, kw) "
            f"and this one, of shape {tuple(w.shape)}, expects {weight_in}; its first axis must be the input's "
            f"channels (the transpose of a conv2d weight, which is (out, in/groups, kh, kw))"
        )
    if in_channels % groups:
        raise ValueError(
            f"input has {in_channels} channels, which groups={groups} cannot split evenly; use a number of "
            f"channels divisible by {groups}"
        )
    out_channels = group_out * groups
    if bias is not None:
        b = as_float_tensor(bias, "bias", 1).to(x.dtype)
        if b.shape[0] != out_channels:
            raise ValueError(
                f"bias must have one entry per output channel ({group_out} x groups {groups} = {out_channels}), "
                f"got {b.shape[0]}"
            )
    (sh, ph, ah, dh, out_h), (sw, pw, aw, dw, out_w) = (
        _transposed_axis(n, k, s, p, a, d, axis)
        for n, k, s, p, a, d, axis in zip(
            (height, width),
            (kh, kw),
            pair(stride, "stride"),
            pair(padding, "padding"),
            pair(output_padding, "output_padding"),
            pair(dilation, "dilation"),
            AXES,
            strict=True,
        )
    )
    group_in = in_channels // groups
    rows = x.reshape(batch, groups, group_in, height * width)
    kernels = w.reshape(groups, group_in, group_out * kh * kw)
    columns = torch.einsum("gck,ngcl->ngkl", kernels, rows).reshape(batch, out_channels * kh * kw, height * width)
    full_h, full_w = (height - 1) * sh + dh * (kh - 1) + 1, (width - 1) * sw + dw * (kw - 1) + 1
    stamped = F.fold(columns, (full_h, full_w), (kh, kw), dilation=(dh, dw), stride=(sh, sw))
    stamped = F.pad(stamped, (0, aw, 0, ah))  # output_padding: new rows and columns at the bottom and right
    out = stamped[:, :, ph : ph + out_h, pw : pw + out_w]  # padding crops p from every side
    if bias is not None:
        out = out + b.view(1, -1, 1, 1)
    return out[0] if unbatched else out


def overlap_counts(input_size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1) -> torch.Tensor:
    """How many kernel copies a transposed convolution stamps on each output position (ints; 1-D or 2-D).

    ``input_size`` and ``kernel_size``: ints for 1-D, (h, w) pairs for 2-D (stride, padding, output_padding and
    dilation then take an int or a pair). The count is :func:`conv_transpose2d` of an all-ones input with an
    all-ones kernel: where it is uneven, a constant input comes out uneven (the checkerboard).
    """
    one_d = not isinstance(input_size, (tuple, list))
    if one_d:  # a 1-D count is a 2-D one of height 1: a 1-row input, a 1-row kernel, nothing happening down
        input_size, kernel_size = (1, input_size), (1, kernel_size)
        stride, padding, output_padding, dilation = (1, stride), (0, padding), (0, output_padding), (1, dilation)
    (h, w), (kh, kw) = pair(input_size, "input_size"), pair(kernel_size, "kernel_size")
    counts = (
        conv_transpose2d(
            torch.ones(1, 1, check_int("input_size", h), check_int("input_size", w), dtype=torch.float64),
            torch.ones(1, 1, check_int("kernel_size", kh), check_int("kernel_size", kw), dtype=torch.float64),
            stride=stride,
            padding=padding,
            output_padding=output_padding,
            dilation=dilation,
        )[0, 0]
        .round()
        .long()
    )
    return counts[0] if one_d else counts
