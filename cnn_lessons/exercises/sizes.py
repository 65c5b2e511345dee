"""Checkers for the exercises on sizes: output sizes, padding, transposed sizes, receptive fields, flatten sizes."""

from __future__ import annotations

import inspect
import itertools
import math
import random

from cnn_lessons import arithmetic
from cnn_lessons.exercises.answers import Pair, Whole
from cnn_lessons.exercises.core import Exercise, Mistake, check_function

__all__ = [
    "check_output_size",
    "check_same_padding",
    "check_transposed_output_size",
    "check_receptive_field",
    "check_flatten_size",
    "size_cases",
    "transposed_cases",
    "flatten_cases",
    "flatten_trace",
]


def _positional(formula):
    """A mistake's formula written with short positional names (i, k, s, p, ...), called with a case's keywords."""
    return lambda **case: formula(*case.values())


# --- output_size ---------------------------------------------------------------------------------------------


def size_cases() -> list[dict]:
    """Every size, kernel, stride, padding and dilation of a small grid where the dilated kernel fits."""
    return [
        {"size": i, "kernel_size": k, "stride": s, "padding": p, "dilation": d}
        for i, k, s, p, d in itertools.product((1, 2, 5, 6, 7, 10, 13), (1, 2, 3, 4), (1, 2, 3), (0, 1, 2), (1, 2, 3))
        if i + 2 * p >= d * (k - 1) + 1
    ]


OUTPUT_SIZE = Exercise(
    name="output_size",
    cases=size_cases(),
    reference=arithmetic.conv_output_size,
    answer=Whole("a size"),
    hint="o = floor((i + 2p - d(k-1) - 1) / s) + 1",
    mistakes=(
        Mistake(
            "you left out the + 1 (a window that fits exactly still gives one output)",
            gives=_positional(lambda i, k, s, p, d: (i + 2 * p - d * (k - 1) - 1) // s),
        ),
        Mistake(
            "you ignored dilation: the kernel spans d*(k-1)+1 positions",
            gives=_positional(lambda i, k, s, p, d: (i + 2 * p - k) // s + 1),
        ),
        Mistake(
            "a dilated kernel spans d*(k-1)+1 positions (k taps with d - 1 gaps between them), not d*k",
            gives=_positional(lambda i, k, s, p, d: (i + 2 * p - d * k) // s + 1),
        ),
        Mistake(
            "the kernel spans d(k-1) + 1 positions: subtract the whole span, i + 2p - d(k-1) - 1, before dividing",
            gives=_positional(lambda i, k, s, p, d: (i + 2 * p - d * (k - 1)) // s + 1),
        ),
        Mistake(
            "you padded one side only: padding adds p zeros on each side",
            gives=_positional(lambda i, k, s, p, d: (i + p - d * (k - 1) - 1) // s + 1),
        ),
        Mistake(
            "you ignored padding: it adds p zeros on each side, 2p in all",
            gives=_positional(lambda i, k, s, p, d: (i - d * (k - 1) - 1) // s + 1),
        ),
        Mistake(
            "you ignored the stride: a stride-s kernel takes every s-th position, so divide by s",
            gives=_positional(lambda i, k, s, p, d: i + 2 * p - d * (k - 1)),
        ),
        Mistake(
            "you divided every window by the stride: the first window is always there, the stride spaces the "
            "others, floor((i + 2p - d(k-1) - 1) / s) + 1",
            gives=_positional(lambda i, k, s, p, d: (i + 2 * p - d * (k - 1)) // s),
        ),
        Mistake(
            "you rounded up: the last window must fit, so round down (floor)",
            gives=_positional(lambda i, k, s, p, d: -(-(i + 2 * p - d * (k - 1) - 1) // s) + 1),
        ),
        Mistake(
            "round() goes to the nearest whole number; the last window must fit, so round down (//)",
            gives=_positional(lambda i, k, s, p, d: round((i + 2 * p - d * (k - 1) - 1) / s) + 1),
        ),
    ),
)


def check_output_size(student_output_size, *, time_limit: float | None = None) -> None:
    """Exercise: ``output_size(size, kernel_size, stride, padding, dilation)`` as torch computes it."""
    check_function(OUTPUT_SIZE, student_output_size, "check_output_size", time_limit)


# --- same_padding --------------------------------------------------------------------------------------------

_SPLIT = "left = total // 2, right = total - left"


def _total(case: dict) -> int:
    return case["dilation"] * (case["kernel_size"] - 1)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


SAME_PADDING = Exercise(
    name="same_padding",
    cases=[{"kernel_size": k, "dilation": d} for k in range(1, 8) for d in range(1, 5)],
    reference=arithmetic.same_padding,
    answer=Pair(),
    hint=f"the total is d*(k-1), so that a stride-1 output keeps the input size; {_SPLIT}",
    mistakes=(
        Mistake(
            f"torch puts the smaller half on the left: {_SPLIT}",
            gives=lambda kernel_size, dilation: (
                dilation * (kernel_size - 1) - dilation * (kernel_size - 1) // 2,
                dilation * (kernel_size - 1) // 2,
            ),
        ),
        Mistake(
            "the total must be d*(k-1), not k - 1: a dilated kernel spans d*(k-1) + 1 positions, and a stride-1 "
            "output keeps the input size when the padding adds d*(k-1)",
            gives=lambda kernel_size, dilation: ((kernel_size - 1) // 2, (kernel_size - 1) - (kernel_size - 1) // 2),
        ),
        Mistake(
            f"left + right must be d*(k-1): with an odd total, total // 2 on both sides loses one; {_SPLIT}",
            gives=lambda kernel_size, dilation: (dilation * (kernel_size - 1) // 2,) * 2,
        ),
        Mistake(
            f"left + right must be d*(k-1): with an odd total, rounding up on both sides adds one; {_SPLIT}",
            gives=lambda kernel_size, dilation: (-(-dilation * (kernel_size - 1) // 2),) * 2,
        ),
        Mistake(
            "d * (k // 2) on each side is right for odd kernels only: for an even kernel the total d*(k-1) is "
            f"not 2 * d * (k // 2); {_SPLIT}",
            gives=lambda kernel_size, dilation: (dilation * (kernel_size // 2),) * 2,
        ),
        Mistake(
            f"each side gets a part of the total d*(k-1), not all of it: {_SPLIT}",
            gives=lambda kernel_size, dilation: (dilation * (kernel_size - 1),) * 2,
        ),
        Mistake(
            "the total padding is d*(k-1), one less than the kernel's span d*(k-1) + 1",
            gives=lambda kernel_size, dilation: (
                (dilation * (kernel_size - 1) + 1) // 2,
                dilation * (kernel_size - 1) + 1 - (dilation * (kernel_size - 1) + 1) // 2,
            ),
        ),
        Mistake(
            "the total padding is d*(k-1) = d*k - d, not d*k - 1",
            gives=lambda kernel_size, dilation: (
                (dilation * kernel_size - 1) // 2,
                dilation * kernel_size - 1 - (dilation * kernel_size - 1) // 2,
            ),
        ),
        Mistake(
            f"total / 2 gives floats (1.5 for a total of 3), but padding adds whole zeros: {_SPLIT}",
            raw=lambda case, value, expected: (
                isinstance(value, (tuple, list))
                and len(value) == 2
                and any(isinstance(v, float) for v in value)
                and sum(value) == _total(case)
            ),
        ),
        Mistake(
            f"that is the total, d*(k-1); split it into the pair (left, right): {_SPLIT}",
            raw=lambda case, value, expected: _is_number(value) and value == _total(case),
        ),
        Mistake(
            f"that is one side; return both sides, (left, right): {_SPLIT}",
            raw=lambda case, value, expected: _is_number(value) and value in expected,
        ),
    ),
)


def check_same_padding(student_same_padding, *, time_limit: float | None = None) -> None:
    """Exercise: ``same_padding(kernel_size, dilation) -> (left, right)`` as torch splits it."""
    check_function(SAME_PADDING, student_same_padding, "check_same_padding", time_limit)


# --- transposed_size -----------------------------------------------------------------------------------------


def transposed_cases(dilation: bool = False) -> list[dict]:
    """Sizes, kernels, strides, paddings and output paddings (and dilations) with a positive output."""
    cases = []
    for i, k, s, p, d in itertools.product(
        range(1, 7), range(1, 5), range(1, 4), range(3), (1, 2) if dilation else (1,)
    ):
        for a in range(max(s, d)):
            if (i - 1) * s - 2 * p + d * (k - 1) + a + 1 >= 1:
                case = {"size": i, "kernel_size": k, "stride": s, "padding": p, "output_padding": a}
                cases.append(case | {"dilation": d} if dilation else case)
    return cases


def _transposed(formula):
    return _positional(lambda i, k, s, p, a, d=1: formula(i, k, s, p, a, d))


_TRANSPOSED = "o = s(i - 1) + d(k - 1) + 1 - 2p + output_padding"
_TRANSPOSED_MISTAKES = (
    Mistake(
        "you forgot output_padding: it adds a positions at the end (it picks one of the s sizes a stride-s "
        f"convolution maps to the same output); {_TRANSPOSED}",
        gives=_transposed(lambda i, k, s, p, a, d: s * (i - 1) + d * (k - 1) + 1 - 2 * p),
    ),
    Mistake(
        "that is the forward convolution's formula; a transposed convolution runs it backwards: " + _TRANSPOSED,
        gives=_transposed(lambda i, k, s, p, a, d: (i + 2 * p - d * (k - 1) - 1) // s + 1),
    ),
    Mistake(
        f"in a transposed convolution padding crops the output: subtract 2p; {_TRANSPOSED}",
        gives=_transposed(lambda i, k, s, p, a, d: s * (i - 1) + d * (k - 1) + 1 + 2 * p + a),
    ),
    Mistake(
        f"padding crops p from each side of the output: subtract 2p, not p; {_TRANSPOSED}",
        gives=_transposed(lambda i, k, s, p, a, d: s * (i - 1) + d * (k - 1) + 1 - p + a),
    ),
    Mistake(
        f"the stride spreads i inputs over s(i - 1) + 1 positions: s(i - 1), not s*i; {_TRANSPOSED}",
        gives=_transposed(lambda i, k, s, p, a, d: s * i + d * (k - 1) + 1 - 2 * p + a),
    ),
    Mistake(
        f"you left out the + 1: the kernel adds d(k - 1) positions to the one each input lands on; {_TRANSPOSED}",
        gives=_transposed(lambda i, k, s, p, a, d: s * (i - 1) + d * (k - 1) - 2 * p + a),
    ),
    Mistake(
        f"output_padding adds a positions at one end only, not at both; {_TRANSPOSED}",
        gives=_transposed(lambda i, k, s, p, a, d: s * (i - 1) + d * (k - 1) + 1 - 2 * p + 2 * a),
    ),
    Mistake(
        f"output_padding adds positions: add it, do not subtract it; {_TRANSPOSED}",
        gives=_transposed(lambda i, k, s, p, a, d: s * (i - 1) + d * (k - 1) + 1 - 2 * p - a),
    ),
    Mistake(
        f"you ignored the stride: it spreads the i inputs s positions apart, s(i - 1); {_TRANSPOSED}",
        gives=_transposed(lambda i, k, s, p, a, d: (i - 1) + d * (k - 1) + 1 - 2 * p + a),
    ),
    Mistake(
        f"you ignored dilation: a dilated kernel spans d(k - 1) + 1 positions; {_TRANSPOSED}",
        gives=_transposed(lambda i, k, s, p, a, d: s * (i - 1) + k - 2 * p + a),
    ),
    Mistake(
        f"a dilated kernel spans d(k - 1) + 1 positions, not d*k; {_TRANSPOSED}",
        gives=_transposed(lambda i, k, s, p, a, d: s * (i - 1) + d * k - 2 * p + a),
    ),
)

TRANSPOSED_SIZE = Exercise(
    name="transposed_size",
    cases=transposed_cases(),
    reference=arithmetic.conv_transpose_output_size,
    answer=Whole("a size"),
    hint=f"{_TRANSPOSED}: the stride spreads the inputs, the kernel adds d(k - 1), padding crops p from each side "
    "and output_padding adds a at the end",
    mistakes=_TRANSPOSED_MISTAKES,
)
TRANSPOSED_SIZE_DILATED = Exercise(
    name="transposed_size",
    cases=transposed_cases(dilation=True),
    reference=arithmetic.conv_transpose_output_size,
    answer=Whole("a size"),
    hint=TRANSPOSED_SIZE.hint,
    mistakes=_TRANSPOSED_MISTAKES,
)


def _takes_dilation(student) -> bool:
    try:
        inspect.signature(student).bind(*TRANSPOSED_SIZE_DILATED.cases[0].values())
    except (TypeError, ValueError):  # five parameters (the lesson's), or no signature to read
        return False
    return True


def check_transposed_output_size(student_transposed_size, *, time_limit: float | None = None) -> None:
    """Exercise: ``transposed_size(size, kernel_size, stride, padding, output_padding)`` (relationship 14).

    A function with a sixth parameter, ``dilation``, is checked on dilated cases too.
    """
    dilated = callable(student_transposed_size) and _takes_dilation(student_transposed_size)
    exercise = TRANSPOSED_SIZE_DILATED if dilated else TRANSPOSED_SIZE
    check_function(exercise, student_transposed_size, "check_transposed_output_size", time_limit)


# --- receptive_field -----------------------------------------------------------------------------------------


def _field(layers, start=1, own_stride_first=False, k_times=False, add_strides=False) -> int:
    """The receptive field, or what a mistake makes of it."""
    field, jump = start, 1
    for k, s in layers:
        if own_stride_first:
            jump *= s
        field += (k if k_times else k - 1) * jump
        if add_strides:
            jump += s
        elif not own_stride_first:
            jump *= s
    return field


def receptive_field_cases() -> list[dict]:
    rng = random.Random(4)
    stacks = [[(3, 1), (3, 1)], [(7, 2), (3, 2)], [(2, 2), (3, 1)]]
    stacks += [[(rng.randint(1, 7), rng.randint(1, 3)) for _ in range(rng.randint(1, 5))] for _ in range(40)]
    return [{"layers": layers} for layers in stacks]


RECEPTIVE_FIELD = Exercise(
    name="receptive_field",
    cases=receptive_field_cases(),
    reference=arithmetic.receptive_field,
    answer=Whole("a receptive field"),
    hint="r = 1 + sum over layers of (k_l - 1) times the product of the strides before layer l",
    mistakes=(
        Mistake(
            "strides matter: after a stride-s layer, one step of the next layer covers s input positions",
            gives=lambda layers: 1 + sum(k - 1 for k, _ in layers),
        ),
        Mistake(
            "receptive fields do not multiply: each layer adds (k - 1) times the jump (the product of the strides "
            "before it)",
            gives=lambda layers: math.prod(k for k, _ in layers),
        ),
        Mistake(
            "a layer's own stride does not widen its own field: add (k - 1) * jump first, then multiply the jump "
            "by the layer's stride",
            gives=lambda layers: _field(layers, own_stride_first=True),
        ),
        Mistake(
            "the list is first layer first: go forward with the jump (r += (k - 1) * jump, then jump *= s), or run "
            "the recursion r = s*r + k - s over reversed(layers); you went through the layers in the other direction",
            gives=lambda layers: _field(layers[::-1]),
        ),
        Mistake(
            "strides multiply: after two stride-2 layers one step covers 4 input positions, so jump *= s, not "
            "jump += s",
            gives=lambda layers: _field(layers, add_strides=True),
        ),
        Mistake(
            "start from 1: before any layer, one position sees one input position",
            gives=lambda layers: _field(layers, start=0),
        ),
        Mistake(
            "each layer widens the field by (k - 1) times the jump, not k times: its window shares a position "
            "with the one before",
            gives=lambda layers: _field(layers, k_times=True),
        ),
        Mistake(
            "each layer's (k - 1) is multiplied by the strides BEFORE it, not by all the strides",
            gives=lambda layers: 1 + sum(k - 1 for k, _ in layers) * math.prod(s for _, s in layers),
        ),
        Mistake(
            "that list is the field after each layer; return the last one, the whole stack's",
            raw=lambda case, value, expected: isinstance(value, list) and value[-1] == expected,
        ),
        Mistake(
            "return the field only, not (field, jump)",
            raw=lambda case, value, expected: isinstance(value, tuple) and len(value) == 2 and value[0] == expected,
        ),
    ),
)


def check_receptive_field(student_receptive_field, *, time_limit: float | None = None) -> None:
    """Exercise: ``receptive_field(layers)`` for a list of (kernel_size, stride) layers, first layer first."""
    check_function(RECEPTIVE_FIELD, student_receptive_field, "check_receptive_field", time_limit)


# --- flatten_size --------------------------------------------------------------------------------------------


def flatten_trace(size, conv_channels, kernel_size, padding, pool) -> tuple[int, str]:
    """The flatten size of the stack and how it comes about ("28 -> conv 24 -> pool 12"), by arithmetic."""
    steps = [str(size)]
    for _ in conv_channels:
        size = arithmetic.conv_output_size(size, kernel_size, padding=padding)
        steps.append(f"conv {size}")
        if pool is not None:
            size = arithmetic.pool_output_size(size, pool)
            steps.append(f"pool {size}")
    channels = conv_channels[-1]
    return channels * size * size, f"{channels} x {size} x {size} ({' -> '.join(steps)})"


def _flatten_guess(size, conv_channels, kernel_size, padding, pool, mistake: str) -> int | None:
    """What a common mistake gives for the flatten size (None where that arithmetic breaks down)."""
    sides = 1 if mistake == "one side" else 2
    padding = 0 if mistake == "no padding" else padding
    blocks = conv_channels[:1] if mistake == "one block" else conv_channels
    for _ in blocks:
        if mistake != "no shrink":
            size = size + sides * padding - kernel_size + 1
        if pool is not None and mistake not in ("no pool", "pool once"):
            size = -(-size // pool) if mistake == "ceil" else size // pool
        if size < 1:
            return None
    if mistake == "pool once" and pool is not None:
        size //= pool
        if size < 1:
            return None
    channels = {"no channels": 1, "first channels": conv_channels[0], "sum channels": sum(conv_channels)}
    channels = channels.get(mistake, conv_channels[-1])
    return channels * size * (1 if mistake == "not squared" else size)


_FLATTEN_HINTS = {
    "no channels": "multiply by the channels of the last block: flatten keeps every channel of the map",
    "first channels": "the map that is flattened comes out of the LAST block: use conv_channels[-1]",
    "sum channels": "the flattened map has the last block's channels, conv_channels[-1], not all blocks' together",
    "not squared": "the map is square: channels x height x width, with height = width",
    "no pool": "you left out the pooling: a p x p max-pool divides each side by p",
    "pool once": "every block ends with its own pool, not just the last one",
    "one block": "there is one block (convolution, then pool) per entry of conv_channels",
    "ceil": "a max-pool rounds down (floor): a window that does not fit is dropped",
    "no padding": "padding adds zeros around the map before each convolution: size + 2p - k + 1",
    "one side": "padding adds p zeros on EACH side: size + 2p - k + 1",
    "no shrink": "a convolution without enough padding shrinks the map: size + 2p - k + 1",
}


def flatten_cases() -> list[dict]:
    """Stacks of blocks where the map never vanishes."""
    cases = []
    for size, conv_channels, kernel_size, padding, pool in itertools.product(
        (8, 13, 28, 32), ((6,), (8, 16), (4, 8, 16)), (3, 5), (0, 1, 2), (2, 3, None)
    ):
        case = {"size": size, "conv_channels": conv_channels, "kernel_size": kernel_size, "padding": padding}
        case["pool"] = pool
        try:
            flatten_trace(**case)
        except ValueError:  # the map vanishes: no flatten size to ask for
            continue
        cases.append(case)
    return cases


def _guess(mistake: str):
    return lambda **case: _flatten_guess(**case, mistake=mistake)


FLATTEN_SIZE = Exercise(
    name="flatten_size",
    cases=flatten_cases(),
    reference=lambda **case: flatten_trace(**case)[0],
    answer=Whole("a number of features"),
    hint="per block, conv: size + 2p - k + 1, then pool: size // p; at the end channels x size x size",
    mistakes=tuple(Mistake(text, gives=_guess(mistake)) for mistake, text in _FLATTEN_HINTS.items()),
    show_expected=lambda case, expected: f"{expected:,} = {flatten_trace(**case)[1]}",
)


def check_flatten_size(student_flatten_size, *, time_limit: float | None = None) -> None:
    """Exercise: ``flatten_size(size, conv_channels, kernel_size, padding, pool)`` of a stack of conv blocks.

    A square ``size`` x ``size`` input goes through one block per entry of ``conv_channels``: a
    ``kernel_size`` convolution (stride 1, ``padding`` zeros on every side) with that many output channels,
    then (unless ``pool`` is None) a ``pool`` x ``pool`` max-pool. The answer is the number of features the
    first linear layer receives after ``nn.Flatten``.
    """
    check_function(FLATTEN_SIZE, student_flatten_size, "check_flatten_size", time_limit)
