"""Checkers for lesson 04's exercises on building blocks: a bottleneck's parameters, what a depthwise separable
convolution saves, and the channels a dense block hands on."""

from __future__ import annotations

import functools
import itertools

import torch
from torch import nn

from cnn_lessons import arithmetic, models
from cnn_lessons.exercises.answers import Number, Whole
from cnn_lessons.exercises.core import Exercise, Mistake, check_function

__all__ = ["check_bottleneck_parameters", "check_separable_ratio", "check_dense_block_channels"]


@functools.cache  # the cases repeat from one check to the next
def _bottleneck_reference(in_channels: int, width: int) -> int:
    """The parameters of ``models.Bottleneck(in_channels, width)``, counted on the meta device."""
    with torch.device("meta"):  # shapes only: nothing to initialise
        return models.count_parameters(models.Bottleneck(in_channels, width))


def _bottleneck(formula):
    """A mistake's formula in short names: i (in_channels), w (width), p (1 when the shortcut is a projection)."""
    return lambda in_channels, width: formula(in_channels, width, int(in_channels != 4 * width))


BOTTLENECK = Exercise(
    name="bottleneck_parameters",
    cases=[
        {"in_channels": i, "width": w} for i, w in itertools.product((64, 256, 512, 1024), (64, 128, 256)) if i >= w
    ],
    reference=_bottleneck_reference,
    answer=Whole("a number of parameters"),
    hint="1x1 (in_channels -> width), 3x3 (width -> width), 1x1 (width -> 4*width), no biases, a batch norm (2 "
    "per channel) after each; plus a 1x1 projection (in_channels -> 4*width) with its batch norm when "
    "in_channels != 4*width",
    mistakes=(
        Mistake(
            "you left out the batch norms: one after each convolution (and after the projection), a scale and a "
            "shift per channel",
            gives=_bottleneck(lambda i, w, p: i * w + 9 * w * w + w * 4 * w + p * i * 4 * w),
        ),
        Mistake(
            "the shortcut needs a projection (a 1x1 convolution and a batch norm) when in_channels != 4*width: the "
            "two tensors must have the same shape to be added",
            gives=_bottleneck(lambda i, w, p: i * w + 9 * w * w + 4 * w * w + 2 * (w + w + 4 * w)),
        ),
        Mistake(
            "when in_channels == 4*width the shortcut is the identity, which has no parameters",
            gives=_bottleneck(lambda i, w, p: i * w + 9 * w * w + 4 * w * w + 2 * (6 * w) + i * 4 * w + 8 * w),
        ),
        Mistake(
            "the last 1x1 convolution widens to 4*width channels (the block's output), not to width",
            gives=_bottleneck(lambda i, w, p: i * w + 9 * w * w + w * w + 2 * 3 * w + p * (i * w + 2 * w)),
        ),
        Mistake(
            "the 3x3 convolution works on the narrow tensor: width -> width, not in_channels -> width",
            gives=_bottleneck(lambda i, w, p: i * w + 9 * i * w + 4 * w * w + 2 * 6 * w + p * (4 * i * w + 8 * w)),
        ),
        Mistake(
            "the convolutions have no bias (the batch norm after each would cancel it)",
            gives=_bottleneck(
                lambda i, w, p: i * w + 9 * w * w + 4 * w * w + 2 * 6 * w + 6 * w + p * (4 * i * w + 8 * w + 4 * w)
            ),
        ),
        Mistake(
            "buffers are not parameters: a batch norm learns 2 values per channel (scale and shift); its running "
            "mean and variance are statistics, not parameters",
            gives=_bottleneck(lambda i, w, p: i * w + 9 * w * w + 4 * w * w + 4 * 6 * w + p * (4 * i * w + 16 * w)),
        ),
        Mistake(
            "the projection goes from in_channels to 4*width channels",
            gives=_bottleneck(lambda i, w, p: i * w + 9 * w * w + 4 * w * w + 2 * 6 * w + p * (i * w + 2 * w)),
        ),
        Mistake(
            "a 3x3 kernel has 9 weights per (input, output) channel pair",
            gives=_bottleneck(lambda i, w, p: i * w + w * w + 4 * w * w + 2 * 6 * w + p * (4 * i * w + 8 * w)),
        ),
    ),
)


def check_bottleneck_parameters(student_bottleneck_parameters, *, time_limit: float | None = None) -> None:
    """Exercise: ``bottleneck_parameters(in_channels, width)`` of ResNet's bottleneck block (stride 1)."""
    check_function(BOTTLENECK, student_bottleneck_parameters, "check_bottleneck_parameters", time_limit)


@functools.cache  # the cases repeat from one check to the next
def _separable_reference(in_channels: int, out_channels: int, kernel_size: int) -> float:
    """Multiply-adds of a depthwise + pointwise pair over those of a full convolution, both counted by torch."""
    k, size = kernel_size, (in_channels, 16, 16)
    with torch.device("meta"):  # shapes only
        full = nn.Conv2d(in_channels, out_channels, k, padding=k // 2, bias=False)
        separable = nn.Sequential(
            nn.Conv2d(in_channels, in_channels, k, padding=k // 2, groups=in_channels, bias=False),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
        )
    return arithmetic.multiply_adds(separable, size) / arithmetic.multiply_adds(full, size)


def _ratio(formula):
    """A mistake's formula in short names: i, o (channels), k (kernel size)."""
    return lambda in_channels, out_channels, kernel_size: formula(in_channels, out_channels, kernel_size)


SEPARABLE = Exercise(
    name="separable_ratio",
    cases=[
        {"in_channels": i, "out_channels": o, "kernel_size": k}
        for i, o, k in itertools.product((3, 16, 32, 128), (8, 64, 256), (3, 5, 7))
    ],
    reference=_separable_reference,
    answer=Number(rtol=1e-9),
    hint="count per output position: the depthwise k x k filter does k*k multiply-adds for each of the "
    "in_channels channels, the 1x1 does in_channels for each of the out_channels; a full convolution does "
    "in_channels * k * k for each of the out_channels. Divide, and simplify",
    mistakes=(
        Mistake(
            "that is the full convolution over the separable one: the question asks separable / full (a number "
            "below 1)",
            gives=_ratio(lambda i, o, k: 1 / (1 / o + 1 / (k * k))),
        ),
        Mistake(
            "you left out the depthwise part (k*k multiply-adds per input channel): that is the 1x1 alone",
            gives=_ratio(lambda i, o, k: 1 / (k * k)),
        ),
        Mistake(
            "you left out the 1x1 (pointwise) part, which mixes the channels: that is the depthwise filter alone",
            gives=_ratio(lambda i, o, k: 1 / o),
        ),
        Mistake(
            "divide each part by the full convolution's in_channels * k*k * out_channels: the depthwise part "
            "(k*k * in_channels) gives 1/out_channels, not 1/in_channels",
            gives=_ratio(lambda i, o, k: 1 / i + 1 / (k * k)),
        ),
        Mistake(
            "a k x k filter does k*k multiply-adds per channel, not k",
            gives=_ratio(lambda i, o, k: 1 / o + 1 / k),
        ),
        Mistake(
            "you multiplied the two parts' ratios; the costs add: (k*k*in + in*out) / (k*k*in*out)",
            gives=_ratio(lambda i, o, k: 1 / (o * k * k)),
        ),
        Mistake(
            "that counts parameters with biases; the question is about multiply-adds, which biases do not add to",
            gives=_ratio(lambda i, o, k: (i * k * k + i + i * o + o) / (i * k * k * o + o)),
        ),
        Mistake(
            "the saving is 1/out_channels + 1/k^2: the separable pair costs a FRACTION of the full convolution, "
            "not that fraction less",
            gives=_ratio(lambda i, o, k: 1 - (1 / o + 1 / (k * k))),
        ),
    ),
)


def check_separable_ratio(student_separable_ratio, *, time_limit: float | None = None) -> None:
    """Exercise: ``separable_ratio(in_channels, out_channels, kernel_size)``, separable / full multiply-adds."""
    check_function(SEPARABLE, student_separable_ratio, "check_separable_ratio", time_limit)


@functools.cache  # the cases repeat from one check to the next
def _dense_reference(in_channels: int, growth_rate: int, num_layers: int) -> int:
    """The channels of ``models.DenseBlock(num_layers, in_channels, growth_rate)``'s output, by a meta forward."""
    with torch.device("meta"):  # shapes only
        block = models.DenseBlock(num_layers, in_channels, growth_rate).eval()
        return block(torch.zeros(1, in_channels, 8, 8)).shape[1]


def _dense(formula):
    """A mistake's formula in short names: c (in_channels), k (growth rate), n (layers)."""
    return lambda in_channels, growth_rate, num_layers: formula(in_channels, growth_rate, num_layers)


DENSE = Exercise(
    name="dense_block_channels",
    cases=[
        {"in_channels": c, "growth_rate": k, "num_layers": n}
        for c, k, n in itertools.product((16, 64, 128), (12, 32), (1, 2, 6, 24))
    ],
    reference=_dense_reference,
    answer=Whole("a number of channels"),
    hint="each layer adds growth_rate new channels and keeps every channel it received (concatenation)",
    mistakes=(
        Mistake(
            "the block keeps its input: each layer concatenates its new channels to everything before it, the "
            "block's input included",
            gives=_dense(lambda c, k, n: n * k),
        ),
        Mistake(
            "growth_rate is what EACH of the num_layers layers adds, not what the block adds in total",
            gives=_dense(lambda c, k, n: c + k),
        ),
        Mistake(
            "count all num_layers layers: that is the input of the last one, whose new channels join the output too",
            gives=_dense(lambda c, k, n: c + (n - 1) * k),
        ),
        Mistake(
            "the input is kept once and each layer adds growth_rate: in_channels + num_layers * growth_rate, not "
            "(in_channels + growth_rate) * num_layers",
            gives=_dense(lambda c, k, n: (c + k) * n),
        ),
        Mistake(
            "a layer outputs only growth_rate NEW channels (its bottleneck's 4 * growth_rate stay inside it)",
            gives=_dense(lambda c, k, n: c + 4 * k * n),
        ),
        Mistake("concatenation adds channels; it does not multiply them", gives=_dense(lambda c, k, n: c * k * n)),
        Mistake(
            "each layer adds growth_rate channels once; the ones it received are passed on, not copied again",
            gives=_dense(lambda c, k, n: c * (n + 1) + k * n * (n + 1) // 2),
        ),
    ),
)


def check_dense_block_channels(student_dense_block_channels, *, time_limit: float | None = None) -> None:
    """Exercise: ``dense_block_channels(in_channels, growth_rate, num_layers)``, a dense block's output channels."""
    check_function(DENSE, student_dense_block_channels, "check_dense_block_channels", time_limit)
