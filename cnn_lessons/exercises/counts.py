"""Checker for the exercise on counting a convolution's parameters."""

from __future__ import annotations

import itertools

from cnn_lessons import arithmetic
from cnn_lessons.exercises.answers import Whole
from cnn_lessons.exercises.core import Exercise, Mistake, check_function

__all__ = ["check_conv_parameter_count", "parameter_cases"]


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
