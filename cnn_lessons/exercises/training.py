"""Checkers for the exercises on what makes a network train well (lesson 06): batch norm by hand, the dropout
scale, an initialisation bound."""

from __future__ import annotations

import math

import torch

from cnn_lessons import ops
from cnn_lessons.exercises.answers import Number, Values
from cnn_lessons.exercises.core import Exercise, Mistake, check_function

__all__ = [
    "check_batch_norm",
    "check_dropout",
    "check_init_bound",
    "batch_norm_cases",
    "dropout_cases",
    "init_bound_cases",
]


# --- batch norm by hand ----------------------------------------------------------------------------------------


def batch_norm_cases() -> list[dict]:
    """(N, C, H, W) float64 batches whose channels have very different means and spreads, with a scale and shift."""
    rng = torch.Generator().manual_seed(6)
    cases = []
    for n, c, h, w in [(2, 1, 2, 2), (4, 3, 3, 3), (1, 2, 4, 4), (8, 4, 2, 3), (3, 2, 1, 1), (5, 3, 4, 2)]:
        centre = torch.randn(1, c, 1, 1, generator=rng, dtype=torch.float64) * 5
        spread = torch.rand(1, c, 1, 1, generator=rng, dtype=torch.float64) * 3 + 0.05
        x = (torch.randn(n, c, h, w, generator=rng, dtype=torch.float64) * spread + centre).round(decimals=2)
        weight = (torch.rand(c, generator=rng, dtype=torch.float64) * 2 + 0.5).round(decimals=1)
        bias = torch.randn(c, generator=rng, dtype=torch.float64).round(decimals=1)
        cases.append({"x": x, "weight": weight, "bias": bias, "eps": 1e-5})
    cases.append({"x": cases[1]["x"] * 1e-3, "weight": cases[1]["weight"], "bias": cases[1]["bias"], "eps": 1e-3})
    return cases


def _normalised(x, mean, var, weight, bias):
    return (x - mean) / var.sqrt() * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)


def _over(x, dims, unbiased=False):
    return x.mean(dim=dims, keepdim=True), x.var(dim=dims, keepdim=True, unbiased=unbiased)


def _batch_norm_with(dims=(0, 2, 3), unbiased=False, eps_inside=True, affine=True, swap=False):
    """A mistaken batch norm: statistics over ``dims``, the unbiased variance, eps beside the sqrt, no affine."""

    def mistaken(x, weight, bias, eps):
        mean, var = _over(x, dims, unbiased)
        if eps_inside:
            y = (x - mean) / (var + eps).sqrt()
        else:
            y = (x - mean) / (var.sqrt() + eps)
        if not affine:
            return y
        if swap:
            weight, bias = bias, weight
        return y * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)

    return mistaken


def _eps_left_out(x, weight, bias, eps):
    mean, var = _over(x, (0, 2, 3))
    return _normalised(x, mean, var, weight, bias)


def _divided_by_variance(x, weight, bias, eps):
    mean, var = _over(x, (0, 2, 3))
    return (x - mean) / (var + eps) * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)


BATCH_NORM = Exercise(
    name="batch_norm",
    cases=batch_norm_cases(),
    reference=lambda x, weight, bias, eps: ops.batch_norm2d(x, weight=weight, bias=bias, training=True, eps=eps),
    answer=Values(rtol=1e-6, atol=1e-9),
    hint="per channel, over axes (0, 2, 3): mean and the biased variance; (x - mean) / sqrt(var + eps), then "
    "* weight + bias, each viewed as (1, C, 1, 1)",
    mistakes=(
        Mistake(
            "you used the unbiased variance (divided by N*H*W - 1): batch norm normalises with the biased one, "
            "x.var(dim=(0, 2, 3), unbiased=False); the unbiased one only goes into running_var",
            gives=_batch_norm_with(unbiased=True),
        ),
        Mistake(
            "your statistics cover every value of the batch, all channels together: batch norm takes one mean "
            "and one variance per channel, over axes (0, 2, 3)",
            gives=_batch_norm_with(dims=(0, 1, 2, 3)),
        ),
        Mistake(
            "your statistics are per image and channel (over axes 2, 3: that is instance norm); batch norm "
            "averages over the batch too, axes (0, 2, 3)",
            gives=_batch_norm_with(dims=(2, 3)),
        ),
        Mistake(
            "your statistics are per pixel and channel, over the batch axis only; batch norm for images takes "
            "every position too, axes (0, 2, 3)",
            gives=_batch_norm_with(dims=(0,)),
        ),
        Mistake(
            "your statistics are per image, over axes (1, 2, 3) (that is layer norm); batch norm takes them per "
            "channel, over axes (0, 2, 3)",
            gives=_batch_norm_with(dims=(1, 2, 3)),
        ),
        Mistake(
            "eps goes inside the square root: sqrt(var + eps), not sqrt(var) + eps",
            gives=_batch_norm_with(eps_inside=False),
        ),
        Mistake("you left out eps: divide by sqrt(var + eps)", gives=_eps_left_out),
        Mistake("divide by the standard deviation, sqrt(var + eps), not by the variance", gives=_divided_by_variance),
        Mistake(
            "you left out the scale and shift: multiply by weight, then add bias", gives=_batch_norm_with(affine=False)
        ),
        Mistake("weight and bias are swapped: y * weight + bias", gives=_batch_norm_with(swap=True)),
    ),
)


def check_batch_norm(student_batch_norm, *, time_limit: float | None = None) -> None:
    """Exercise: ``batch_norm(x, weight, bias, eps)``, batch norm in training mode as ``F.batch_norm`` computes it."""
    check_function(BATCH_NORM, student_batch_norm, "check_batch_norm", time_limit)


# --- the dropout scale -----------------------------------------------------------------------------------------


def dropout_cases() -> list[dict]:
    """Activations, a keep mask (1 keep, 0 drop), the drop probability p, and training True or False."""
    rng = torch.Generator().manual_seed(60)
    cases = []
    for p in (0.5, 0.2, 0.1, 0.75, 0.3):
        for training in (True, False):
            x = (torch.randn(2, 6, generator=rng, dtype=torch.float64) * 2).round(decimals=1)
            keep = (torch.rand(2, 6, generator=rng) >= p).to(torch.float64)
            cases.append({"x": x, "keep": keep, "p": p, "training": training})
    return cases


def _dropout_reference(x, keep, p, training):
    return x * keep / (1 - p) if training else x.clone()


DROPOUT = Exercise(
    name="dropout",
    cases=dropout_cases(),
    reference=_dropout_reference,
    answer=Values(rtol=1e-9, atol=1e-12),
    hint="in training, x * keep / (1 - p) (the kept values scaled up so the expected value stays x); in "
    "evaluation, x unchanged",
    mistakes=(
        Mistake(
            "the kept values must be divided by 1 - p (the share kept): without it, the layer's output is "
            "smaller on average in training than in evaluation",
            gives=lambda x, keep, p, training: x * keep if training else x,
        ),
        Mistake(
            "divide by 1 - p, the share KEPT, not by p, the share dropped",
            gives=lambda x, keep, p, training: x * keep / p if training else x,
        ),
        Mistake(
            "divide the kept values by 1 - p, do not multiply: the expected value of x * keep is (1 - p) * x",
            gives=lambda x, keep, p, training: x * keep * (1 - p) if training else x,
        ),
        Mistake(
            "in evaluation dropout does nothing: return x unchanged (inverted dropout already scaled in training)",
            when=lambda case, got, expected: (
                not case["training"]
                and any(
                    got.shape == expected.shape and torch.allclose(got, candidate)
                    for candidate in (
                        case["x"] * (1 - case["p"]),
                        case["x"] / (1 - case["p"]),
                        case["x"] * case["keep"],
                        case["x"] * case["keep"] / (1 - case["p"]),
                    )
                )
            ),
        ),
        Mistake(
            "keep is 1 where a value is KEPT: multiply by keep, not by 1 - keep",
            gives=lambda x, keep, p, training: x * (1 - keep) / (1 - p) if training else x,
        ),
    ),
)


def check_dropout(student_dropout, *, time_limit: float | None = None) -> None:
    """Exercise: ``dropout(x, keep, p, training)``, inverted dropout with a given keep mask, as ``F.dropout`` scales."""
    check_function(DROPOUT, student_dropout, "check_dropout", time_limit)


# --- an initialisation bound -----------------------------------------------------------------------------------


def init_bound_cases() -> list[dict]:
    """Convolutions (in_channels, kernel_size) and gains: 1 (linear), sqrt(2) (ReLU), 5/3 (tanh), sqrt(1/3)."""
    gains = (1.0, math.sqrt(2.0), 5 / 3, math.sqrt(1 / 3))
    return [
        {"in_channels": c, "kernel_size": k, "gain": g}
        for c, k in ((1, 3), (3, 3), (16, 3), (64, 1), (8, 5), (32, 7), (256, 3))
        for g in gains
    ]


def _bound(in_channels, kernel_size, gain):
    return gain * math.sqrt(3.0 / (in_channels * kernel_size * kernel_size))


INIT_BOUND = Exercise(
    name="init_bound",
    cases=init_bound_cases(),
    reference=_bound,
    answer=Number(rtol=1e-6),
    hint="the weights' std should be gain / sqrt(fan_in) with fan_in = in_channels * kernel_size**2; U(-b, b) "
    "has std b / sqrt(3), so b = gain * sqrt(3 / fan_in)",
    mistakes=(
        Mistake(
            "that is the standard deviation, gain / sqrt(fan_in); the bound of U(-b, b) is sqrt(3) times it, "
            "because a uniform distribution on [-b, b] has std b / sqrt(3)",
            gives=lambda in_channels, kernel_size, gain: gain / math.sqrt(in_channels * kernel_size**2),
        ),
        Mistake(
            "fan_in counts every input of one output: in_channels * kernel_size * kernel_size, not in_channels",
            gives=lambda in_channels, kernel_size, gain: gain * math.sqrt(3.0 / in_channels),
        ),
        Mistake(
            "a kernel_size x kernel_size kernel has kernel_size**2 taps per input channel, not kernel_size",
            gives=lambda in_channels, kernel_size, gain: gain * math.sqrt(3.0 / (in_channels * kernel_size)),
        ),
        Mistake(
            "that is the variance, b**2; the bound is its square root",
            gives=lambda in_channels, kernel_size, gain: _bound(in_channels, kernel_size, gain) ** 2,
        ),
        Mistake(
            "you left out the gain: b = gain * sqrt(3 / fan_in)",
            gives=lambda in_channels, kernel_size, gain: _bound(in_channels, kernel_size, 1.0),
        ),
        Mistake(
            "the gain multiplies the std (and so the bound), not the variance: b = gain * sqrt(3 / fan_in), "
            "not sqrt(3 * gain / fan_in)",
            gives=lambda in_channels, kernel_size, gain: math.sqrt(3.0 * gain / (in_channels * kernel_size**2)),
        ),
        Mistake(
            "the gain multiplies the std, so the variance gets gain**2 and the bound gain: not gain**2 * sqrt(...)",
            gives=lambda in_channels, kernel_size, gain: gain**2 * math.sqrt(3.0 / (in_channels * kernel_size**2)),
        ),
    ),
)


def check_init_bound(student_bound, *, time_limit: float | None = None) -> None:
    """Exercise: ``init_bound(in_channels, kernel_size, gain)``, the b of U(-b, b) with std gain / sqrt(fan_in)."""
    check_function(INIT_BOUND, student_bound, "check_init_bound", time_limit)
