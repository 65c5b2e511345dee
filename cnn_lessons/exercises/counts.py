"""Checkers for the exercises on counting parameters: a convolution's, and ResNet's basic block's."""

from __future__ import annotations

import itertools

from cnn_lessons import arithmetic
from cnn_lessons.exercises.answers import Whole
from cnn_lessons.exercises.core import Exercise, Mistake, check_function, check_value

__all__ = ["check_conv_parameter_count", "check_basic_block_parameters", "parameter_cases"]


def parameter_cases() -> list[dict]:
    """Channels, kernels, bias and groups of ``nn.Conv2d`` (channels divisible by the groups)."""
    return [
        {"in_channels": cin, "out_channels": cout, "kernel_size": k, "bias": bias, "groups": g}
        for cin, cout, k, bias, g in itertools.product((1, 3, 8, 32), (4, 8, 32), (1, 3, 5), (True, False), (1, 2, 4))
        if cin % g == 0 and cout % g == 0
    ]


def _count(formula):
    """A mistake's formula in short names (i, o, k, b, g), called with a case's keywords; ``b`` is 0 or 1."""
    return lambda in_channels, out_channels, kernel_size, bias, groups: formula(
        in_channels, out_channels, kernel_size, int(bias), groups
    )


_FORMULA = "(in_channels / groups * k * k + bias) * out_channels"

CONV_PARAMETERS = Exercise(
    name="parameters",
    cases=parameter_cases(),
    reference=arithmetic.conv_parameter_count,
    answer=Whole("a number of parameters"),
    hint=_FORMULA,
    mistakes=(
        Mistake(
            "you forgot the biases: one per output channel", gives=_count(lambda i, o, k, b, g: i // g * k * k * o)
        ),
        Mistake(
            "bias=False means the layer has no biases: add out_channels only when bias is True",
            gives=_count(lambda i, o, k, b, g: (i // g * k * k + 1) * o),
        ),
        Mistake(
            "there is one bias per OUTPUT channel (each filter adds its own), not one per input channel",
            gives=_count(lambda i, o, k, b, g: i // g * k * k * o + b * i),
        ),
        Mistake(
            "there is one bias per output channel, not one for the whole layer",
            gives=_count(lambda i, o, k, b, g: i // g * k * k * o + b),
        ),
        Mistake(
            "each kernel sees in_channels / groups channels, not all of them",
            gives=_count(lambda i, o, k, b, g: (i * k * k + b) * o),
        ),
        Mistake(
            "with groups there are still out_channels filters (out_channels / groups per group); only their depth "
            "shrinks, to in_channels / groups",
            gives=_count(lambda i, o, k, b, g: i // g * k * k * (o // g) + b * o),
        ),
        Mistake(
            "a k x k kernel has k*k weights per input channel, not k",
            gives=_count(lambda i, o, k, b, g: (i // g * k + b) * o),
        ),
        Mistake(
            "each of the out_channels filters has its own weights and bias: multiply by out_channels",
            gives=_count(lambda i, o, k, b, g: i // g * k * k + b),
        ),
        Mistake(
            "a filter has one bias, added once to its output, not one per kernel position",
            gives=_count(lambda i, o, k, b, g: (i // g + b) * k * k * o),
        ),
    ),
)


def check_conv_parameter_count(student_count, *, time_limit: float | None = None) -> None:
    """Exercise: ``parameters(in_channels, out_channels, kernel_size, bias, groups)`` of an ``nn.Conv2d``."""
    check_function(CONV_PARAMETERS, student_count, "check_conv_parameter_count", time_limit)


_CONV = arithmetic.conv_parameter_count(64, 64, 3, bias=False)  # 36,864
_BN = 2 * 64  # a scale and a shift per channel
_BUFFERS = (
    "buffers are not parameters: a batch norm's running_mean and running_var (and num_batches_tracked) are "
    "statistics it updates by averaging, not values that training learns; model.parameters() leaves them out "
    "(they are in model.buffers())"
)


def _digits(value) -> int | None:
    text = value.replace(",", "").replace("_", "").replace(" ", "") if isinstance(value, str) else ""
    return int(text) if text.isdigit() else None


BASIC_BLOCK = Exercise(
    name="basic_block_parameters",
    cases=[{}],
    reference=lambda: 2 * _CONV + 2 * _BN,
    answer=Whole("a number of parameters"),
    hint="count each 3x3 convolution (64 * 64 * 9 weights, no bias) and each batch norm (a scale and a shift "
    "per channel)",
    mistakes=(
        Mistake("you left out the batch norms: each has a scale and a shift per channel", gives=lambda: 2 * _CONV),
        Mistake(
            "the convolutions have no bias (the batch norm after each would cancel it)",
            gives=lambda: 2 * (_CONV + 64) + 2 * _BN,
        ),
        Mistake("the block has two convolutions and two batch norms", gives=lambda: _CONV + _BN),
        Mistake(_BUFFERS, gives=lambda: 2 * _CONV + 2 * 4 * 64),
        Mistake(_BUFFERS, gives=lambda: 2 * _CONV + 2 * (4 * 64 + 1)),
        Mistake(
            "a batch norm has two parameters per channel, a scale (weight) and a shift (bias)",
            gives=lambda: 2 * _CONV + 2 * 64,
        ),
        Mistake("a 3x3 kernel has 9 weights per (input, output) channel pair", gives=lambda: 2 * 64 * 64 + 2 * _BN),
        Mistake(
            "each of the 64 filters sees all 64 input channels: 64 * 64 * 9 weights per convolution",
            gives=lambda: 2 * 64 * 9 + 2 * _BN,
        ),
        Mistake(
            "no downsampling here: with 64 channels in and out and stride 1 the shortcut is the identity, which "
            "has no parameters",
            gives=lambda: 2 * _CONV + 2 * _BN + 64 * 64 + _BN,
        ),
        Mistake("that is two blocks; one basic block has two convolutions", gives=lambda: 2 * (2 * _CONV + 2 * _BN)),
        Mistake(
            "these are the right parts; the answer is one number, their sum",
            raw=lambda case, value, expected: isinstance(value, (list, tuple)) and sum(value) == expected,
        ),
        Mistake(
            "the right number, as text: write the number itself, without quotes (73984 or 73_984)",
            raw=lambda case, value, expected: _digits(value) == expected,
        ),
    ),
    passed="\u2713 2 x {conv:,} (3x3 convolutions) + 2 x {bn} (batch norms) = {total:,}",
)


def check_basic_block_parameters(answer) -> None:
    """Exercise: the parameters of ResNet's basic block with 64 channels (two 3x3 convs without bias, two BNs)."""
    check_value(BASIC_BLOCK, answer, conv=_CONV, bn=_BN, total=2 * _CONV + 2 * _BN)
