"""Checkers for the exercises on parameter counts: a convolution's, and a dense layer's against it (lesson 03)."""

from __future__ import annotations

import itertools

import numpy as np

from cnn_lessons import arithmetic
from cnn_lessons.exercises.answers import Pair, Unreadable, Whole
from cnn_lessons.exercises.core import Exercise, Mistake, check_function

__all__ = ["check_conv_parameter_count", "parameter_cases", "check_dense_vs_conv", "dense_cases", "dense_vs_conv"]


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


# --- a dense layer against a convolution (lesson 03, section 0) ------------------------------------------------


def dense_cases() -> list[dict]:
    """Image sizes (one not square), channels and odd kernels no larger than the image; a 6x6 RGB image first."""
    sizes = ((6, 6), (4, 4), (5, 7), (8, 8), (28, 28), (32, 32))
    return [
        {"height": h, "width": w, "in_channels": i, "out_channels": o, "kernel_size": k}
        for (h, w), i, o, k in itertools.product(sizes, (3, 1), (4, 16, 1), (3, 1, 5))
        if k <= min(h, w)
    ]


def dense_vs_conv(height: int, width: int, in_channels: int, out_channels: int, kernel_size: int) -> tuple[int, int]:
    """(dense, conv): parameters of ``nn.Linear`` from the flattened image to as many values as the convolution
    gives (out_channels maps of height x width, padding "same"), and of that ``nn.Conv2d``; biases included."""
    pixels = height * width
    return (
        arithmetic.dense_parameter_count(in_channels * pixels, out_channels * pixels),
        arithmetic.conv_parameter_count(in_channels, out_channels, kernel_size),
    )


class Counts(Pair):
    """The pair (dense, conv) of parameter counts, written with thousands separators."""

    def __init__(self):
        super().__init__(("dense", "conv"))

    def read(self, value) -> tuple[int, int]:
        if isinstance(value, (tuple, list)) and any(isinstance(v, (float, np.floating)) for v in value):
            raise Unreadable(
                f"floats, {tuple(value)!r}",
                "parameter counts are whole numbers, ints; `/` always gives a float (even 12 / 4 is 3.0): "
                "use `//`, or multiply and add only",
            )
        return super().read(value)

    def show(self, value, precise: bool = False) -> str:
        return "({:,}, {:,})".format(*value)


def _sizes(case: dict) -> tuple[int, int, int, int, int]:
    return case["in_channels"], case["out_channels"], case["height"], case["width"], case["kernel_size"]


def _wrong(index: int, formula):
    """A wrong number at ``index`` of the pair (0: dense, 1: conv) that ``formula(i, o, h, w, k)`` gives."""
    return lambda case, got, expected: got[index] != expected[index] and got[index] == formula(*_sizes(case))


def _dense(formula):
    return _wrong(0, formula)


def _conv(formula):
    return _wrong(1, formula)


def _working(case: dict, expected: tuple[int, int]) -> str:
    i, o, h, w, k = _sizes(case)
    return f"({expected[0]:,}, {expected[1]:,}) = (({i}*{h}*{w} + 1) * {o}*{h}*{w}, ({i}*{k}*{k} + 1) * {o})"


DENSE_VS_CONV = Exercise(
    name="dense_vs_conv",
    cases=dense_cases(),
    reference=dense_vs_conv,
    answer=Counts(),
    show_expected=_working,
    hint="dense: (inputs + 1) * outputs, with inputs = in_channels*height*width and outputs = "
    "out_channels*height*width; conv: (in_channels*k*k + 1) * out_channels, whatever the image size",
    mistakes=(
        Mistake(
            "the pair is (dense, conv): the dense layer's count first",
            when=lambda case, got, expected: tuple(got) == tuple(reversed(expected)) != tuple(expected),
        ),
        Mistake(
            "you forgot the biases of both layers: the dense layer has one per output value "
            "(out_channels*height*width of them), the convolution one per output channel",
            gives=lambda height, width, in_channels, out_channels, kernel_size: (
                in_channels * height * width * out_channels * height * width,
                in_channels * kernel_size * kernel_size * out_channels,
            ),
        ),
        # the dense layer's count
        Mistake(
            "you forgot the dense layer's biases: one per output value, out_channels*height*width of them",
            when=_dense(lambda i, o, h, w, k: i * h * w * o * h * w),
        ),
        Mistake(
            "a dense layer shares nothing: each of its out_channels*height*width outputs has its own bias, not one "
            "per output channel",
            when=_dense(lambda i, o, h, w, k: i * h * w * o * h * w + o),
        ),
        Mistake(
            "the dense layer has one bias per OUTPUT value (out_channels*height*width), not one per input value",
            when=_dense(lambda i, o, h, w, k: i * h * w * (o * h * w + 1)),
        ),
        Mistake(
            "to give what the convolution gives, the dense layer needs one output per output VALUE: "
            "out_channels*height*width of them, not out_channels",
            when=_dense(lambda i, o, h, w, k: (i * h * w + 1) * o),
        ),
        Mistake(
            "the dense layer here has as many outputs as the convolution, out_channels*height*width; 'as many "
            "outputs as inputs' (section 0) holds only when out_channels equals in_channels",
            when=_dense(lambda i, o, h, w, k: (i * h * w + 1) * i * h * w),
        ),
        Mistake(
            "the dense layer reads every input channel: in_channels*height*width inputs, not height*width",
            when=_dense(lambda i, o, h, w, k: (h * w + 1) * o * h * w),
        ),
        Mistake(
            "the dense layer writes every output channel: out_channels*height*width outputs, not height*width",
            when=_dense(lambda i, o, h, w, k: (i * h * w + 1) * h * w),
        ),
        # the convolution's count
        Mistake(
            "you forgot the convolution's biases: one per output channel",
            when=_conv(lambda i, o, h, w, k: i * k * k * o),
        ),
        Mistake(
            "the convolution has a separate kernel at every one of the height*width positions in your count "
            "(locality without weight sharing); its one kernel per output channel is shared by every position, "
            "so the image size does not enter the count",
            when=_conv(lambda i, o, h, w, k: (i * k * k + 1) * o * h * w),
        ),
        Mistake(
            "the convolution's bias is shared too: one per output channel, not one per output value",
            when=_conv(lambda i, o, h, w, k: i * k * k * o + o * h * w),
        ),
        Mistake(
            "each kernel of the convolution spans every input channel: in_channels*k*k weights per output "
            "channel, not k*k",
            when=_conv(lambda i, o, h, w, k: (k * k + 1) * o),
        ),
        Mistake(
            "a k x k kernel has k*k weights per input channel, not k",
            when=_conv(lambda i, o, h, w, k: (i * k + 1) * o),
        ),
        Mistake(
            "the convolution has one kernel and one bias per output channel: multiply by out_channels",
            when=_conv(lambda i, o, h, w, k: i * k * k + 1),
        ),
    ),
)


def check_dense_vs_conv(student_counts, *, time_limit: float | None = None) -> None:
    """Exercise: ``dense_vs_conv(height, width, in_channels, out_channels, kernel_size)`` -> (dense, conv)."""
    check_function(DENSE_VS_CONV, student_counts, "check_dense_vs_conv", time_limit)
