"""Checkers for the exercises on the backward pass and transposed convolution (lesson 05): the output_padding that
gives an input size back, the gradient with respect to the input, and how many kernel copies overlap."""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F

from cnn_lessons import arithmetic, ops
from cnn_lessons.exercises.answers import Values, Whole
from cnn_lessons.exercises.core import Exercise, Mistake, check_function

__all__ = [
    "check_output_padding",
    "check_input_gradient",
    "check_overlap_counts",
    "output_padding_cases",
    "gradient_cases",
    "overlap_cases",
]


# --- output_padding ----------------------------------------------------------------------------------------------


def output_padding_cases() -> list[dict]:
    """Input sizes, kernels, strides and paddings (at most k - 1, as in practice) of a convolution that fits."""
    first = [{"size": 8, "kernel_size": 3, "stride": 2, "padding": 1}]  # the lesson's example: 7 and 8 both give 4
    return first + [
        {"size": n, "kernel_size": k, "stride": s, "padding": p}
        for n, k, s, p in itertools.product(range(1, 12), (1, 2, 3, 4, 5), (1, 2, 3, 4), (0, 1, 2))
        if n + 2 * p >= k and p < k
    ]


def _output_padding(size: int, kernel_size: int, stride: int, padding: int) -> int:
    """The size wanted back minus what the transposed convolution makes without output_padding, (o-1)s - 2p + k."""
    out = arithmetic.conv_output_size(size, kernel_size, stride, padding)
    return size - ((out - 1) * stride - 2 * padding + kernel_size)


def _short(formula):
    return lambda size, kernel_size, stride, padding: formula(size, kernel_size, stride, padding)


_RULE = "output_padding = (n + 2p - k) mod s: the positions the forward convolution's last step skipped"

OUTPUT_PADDING = Exercise(
    name="output_padding",
    cases=output_padding_cases(),
    reference=_output_padding,
    answer=Whole("an output_padding"),
    hint=f"run the sizes both ways: o = floor((n + 2p - k)/s) + 1 forward, then (o - 1)s - 2p + k back; {_RULE}",
    mistakes=(
        Mistake(
            "you always answered 0: that gives back the smallest of the s input sizes that share this output "
            f"size, not always n; {_RULE}",
            gives=_short(lambda n, k, s, p: 0),
        ),
        Mistake(
            f"you always answered s - 1, the largest output_padding torch allows; it depends on n: {_RULE}",
            gives=_short(lambda n, k, s, p: s - 1),
        ),
        Mistake(f"n mod s leaves out the kernel and the padding: {_RULE}", gives=_short(lambda n, k, s, p: n % s)),
        Mistake(f"you left out the padding: {_RULE}", gives=_short(lambda n, k, s, p: (n - k) % s)),
        Mistake(f"the padding is on both sides: 2p, not p; {_RULE}", gives=_short(lambda n, k, s, p: (n + p - k) % s)),
        Mistake(
            f"one off: the forward size is floor((n + 2p - k)/s) + 1, so the remainder is of n + 2p - k; {_RULE}",
            gives=_short(lambda n, k, s, p: (n + 2 * p - k + 1) % s),
        ),
        Mistake(
            f"that is how far n is from the NEXT size of the group, not from the first one; {_RULE}",
            gives=_short(lambda n, k, s, p: (-(n + 2 * p - k)) % s),
        ),
        Mistake(
            "that is the transposed convolution's output size; the exercise asks for the output_padding that makes "
            "it equal n",
            gives=_short(lambda n, k, s, p: n - _output_padding(n, k, s, p)),  # (o - 1)s - 2p + k
        ),
    ),
)


def check_output_padding(student_output_padding, *, time_limit: float | None = None) -> None:
    """Exercise: the ``output_padding`` with which ``ConvTranspose(k, s, p)`` gives back what ``Conv(k, s, p)`` took."""
    check_function(OUTPUT_PADDING, student_output_padding, "check_output_padding", time_limit)


# --- input_gradient ----------------------------------------------------------------------------------------------


def gradient_cases() -> list[dict]:
    """Output gradients (1x1 to 4x4) of small integers, kernels 1x1 to 3x3, strides 1 to 3 (float64)."""
    g = torch.Generator().manual_seed(5)
    square, corner = torch.tensor([[1.0, 2], [3, 4]]).double(), torch.tensor([[1.0, 0], [0, -1]]).double()
    cases = [
        {"grad_output": square, "kernel": corner, "stride": 1},
        {"grad_output": square, "kernel": square, "stride": 2},
    ]
    for k, s in itertools.product((1, 2, 3), (1, 2, 3)):
        for _ in range(3):
            oh, ow = torch.randint(1, 5, (2,), generator=g).tolist()
            cases.append(
                {
                    "grad_output": torch.randint(-3, 4, (oh, ow), generator=g).double(),
                    "kernel": torch.randint(-2, 3, (k, k), generator=g).double(),
                    "stride": s,
                }
            )
    return cases


def _input_gradient(grad_output: torch.Tensor, kernel: torch.Tensor, stride: int) -> torch.Tensor:
    """dL/dx of y = F.conv2d(x, kernel, stride=stride) by autograd, x of the size the kernel covers exactly."""
    (oh, ow), (kh, kw) = grad_output.shape, kernel.shape
    x = torch.zeros((oh - 1) * stride + kh, (ow - 1) * stride + kw, dtype=torch.float64, requires_grad=True)
    y = F.conv2d(x[None, None], kernel.double()[None, None], stride=stride)[0, 0]
    (grad,) = torch.autograd.grad(y, x, grad_output.double())
    return grad


def _full(g: torch.Tensor, kernel: torch.Tensor, stride: int, flip: bool = True, stretch: bool = True):
    """The full correlation of the (stretched) gradient with the (flipped) kernel: the right answer and its slips."""
    stretched = ops.stretch(g, stride) if stretch else g
    return ops.correlate2d(stretched, kernel.flip(0, 1) if flip else kernel, padding=(kernel.shape[0] - 1))


_GRADIENT = (
    "dL/dx is the full correlation of dL/dy, stretched by the stride (s - 1 zeros between values), with the kernel "
    "flipped; or: each dL/dy value stamps a copy of the kernel, scaled by itself, s cells apart, overlaps adding"
)

INPUT_GRADIENT = Exercise(
    name="input_gradient",
    cases=gradient_cases(),
    reference=_input_gradient,
    answer=Values(),
    hint=_GRADIENT,
    mistakes=(
        Mistake(
            "you did not flip the kernel: the input cell under tap (a, b) of output (i, j) receives dL/dy[i, j] * "
            "w[a, b], which, read from the input's side, is a correlation with the kernel turned half way round; "
            "flip it (kernel.flip(0, 1)), or stamp copies instead",
            gives=lambda grad_output, kernel, stride: _full(grad_output, kernel, stride, flip=False),
        ),
        Mistake(
            "you left out the stride's zeros: with stride s the outputs sat s cells apart on the input, so put s - 1 "
            "zeros between the values of dL/dy (or stamp the copies s cells apart)",
            gives=lambda grad_output, kernel, stride: (
                _full(grad_output, kernel, stride, stretch=False) if stride > 1 else None
            ),
        ),
        Mistake(
            "you correlated without padding ('valid'); the gradient reaches every input cell, so pad dL/dy with "
            "k - 1 zeros on every side (a 'full' correlation): dL/dx has the input's shape",
            gives=lambda grad_output, kernel, stride: ops.correlate2d(
                ops.stretch(grad_output, stride), kernel.flip(0, 1)
            ),  # fmt: skip
        ),
        Mistake(
            "that is the forward pass run on dL/dy (a correlation, no padding, no flip): the backward pass goes "
            "the other way, spreading each value over the k x k cells it came from",
            gives=lambda grad_output, kernel, stride: ops.correlate2d(grad_output, kernel, stride=stride),
        ),
        Mistake(
            "you transposed the kernel instead of flipping it: flipping is a half turn, kernel.flip(0, 1)",
            gives=lambda grad_output, kernel, stride: _full(grad_output, kernel.T, stride, flip=False),
        ),
        Mistake(
            "you put s zeros between values; a stride of s leaves s - 1 cells between them (ops.stretch)",
            gives=lambda grad_output, kernel, stride: _full(grad_output, kernel, stride + 1),
        ),
        Mistake(
            "your signs are the other way round: dL/dx adds dL/dy * w, it subtracts nothing",
            gives=lambda grad_output, kernel, stride: -_input_gradient(grad_output, kernel, stride),
        ),
    ),
)


def check_input_gradient(student_input_gradient, *, time_limit: float | None = None) -> None:
    """Exercise: dL/dx of ``y = F.conv2d(x, kernel, stride)`` (2-D, no padding) given dL/dy, checked by autograd."""
    check_function(INPUT_GRADIENT, student_input_gradient, "check_input_gradient", time_limit)


# --- overlap_counts ----------------------------------------------------------------------------------------------


def overlap_cases() -> list[dict]:
    """Input lengths, kernels and strides of a 1-D transposed convolution."""
    return [
        {"size": n, "kernel_size": k, "stride": s}
        for n, k, s in itertools.product((1, 2, 3, 5, 8), (1, 2, 3, 4, 5), (1, 2, 3, 4))
    ]


def _copies(size: int, kernel_size: int, stride: int, dilation: int = 1) -> torch.Tensor:
    """Copies of the kernel per output position, from torch: ``F.conv_transpose1d`` of ones with ones."""
    ones = torch.ones(1, 1, size, dtype=torch.float64)
    return F.conv_transpose1d(ones, torch.ones(1, 1, kernel_size, dtype=torch.float64), stride=stride,
                              dilation=dilation)[0, 0]  # fmt: skip


def _forward_windows(size: int, kernel_size: int, stride: int) -> torch.Tensor | None:
    """How many windows of a forward Conv1d(k, s) cover each of ``size`` input positions."""
    if kernel_size > size:
        return None
    count = torch.zeros(size, dtype=torch.float64)
    for start in range(0, size - kernel_size + 1, stride):
        count[start : start + kernel_size] += 1
    return count


_OVERLAP = "input cell i stamps the kernel on output cells i*s to i*s + k - 1; count the stamps on each output cell"

OVERLAP_COUNTS = Exercise(
    name="overlap_counts",
    cases=overlap_cases(),
    reference=_copies,
    answer=Values(rtol=0, atol=1e-9),
    hint=f"{_OVERLAP}; there are (n - 1)*s + k output cells",
    mistakes=(
        Mistake(
            f"you left out the stride: the copies start s cells apart, not 1; {_OVERLAP}",
            gives=lambda size, kernel_size, stride: _copies(size, kernel_size, 1) if stride > 1 else None,
        ),
        Mistake(
            f"you spaced the kernel's taps s apart (that is dilation); the copies are s apart, each one k cells "
            f"wide; {_OVERLAP}",
            gives=lambda size, kernel_size, stride: _copies(size, kernel_size, 1, dilation=stride),
        ),
        Mistake(
            "that counts, for the forward convolution, how many windows cover each INPUT cell; the question is about "
            f"the transposed convolution's output: {_OVERLAP}",
            gives=_forward_windows,
        ),
        Mistake(
            f"ceil(k/s) copies everywhere is the most any cell gets; near the ends, and between, fewer do: {_OVERLAP}",
            gives=lambda size, kernel_size, stride: torch.full(
                ((size - 1) * stride + kernel_size,), float(math.ceil(kernel_size / stride))
            ),
        ),
        Mistake(
            f"the output has (n - 1)*s + k cells: you stopped the last copy short; {_OVERLAP}",
            gives=lambda size, kernel_size, stride: (
                _copies(size, kernel_size, stride)[: size * stride]
                if size * stride < (size - 1) * stride + kernel_size
                else None
            ),
        ),
        Mistake(
            f"the output has (n - 1)*s + k cells, not n*s + k: the last copy starts at (n - 1)*s; {_OVERLAP}",
            gives=lambda size, kernel_size, stride: F.pad(_copies(size, kernel_size, stride), (0, stride)),
        ),
    ),
)


def check_overlap_counts(student_overlap_counts, *, time_limit: float | None = None) -> None:
    """Exercise: how many kernel copies a 1-D ``ConvTranspose1d(k, stride=s)`` stamps on each output cell."""
    check_function(OVERLAP_COUNTS, student_overlap_counts, "check_overlap_counts", time_limit)
