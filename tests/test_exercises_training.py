"""Lesson 06's exercises: batch norm by hand, the dropout scale, an initialisation bound. The references agree
with torch; every named mistake is recognised by a student answer that makes it; right answers written
differently pass."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnn_lessons import exercises
from cnn_lessons.exercises import ExerciseFailed, training


def batch_norm(x, weight, bias, eps):
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = ((x - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)


def dropout(x, keep, p, training):
    return x * keep / (1 - p) if training else x


def init_bound(in_channels, kernel_size, gain):
    return gain * math.sqrt(3 / (in_channels * kernel_size**2))


def test_the_lessons_solutions_pass(capsys):
    exercises.check_batch_norm(batch_norm)
    exercises.check_dropout(dropout)
    exercises.check_init_bound(init_bound)
    assert capsys.readouterr().out.splitlines() == [
        "\u2713 batch_norm: correct on all 7 cases",
        "\u2713 dropout: correct on all 10 cases",
        "\u2713 init_bound: correct on all 28 cases",
    ]


def test_right_answers_written_differently_pass(capsys):
    def with_torch(x, weight, bias, eps):  # F.batch_norm itself
        return F.batch_norm(x, None, None, weight, bias, training=True, eps=eps)

    def per_channel_loop(x, weight, bias, eps):  # one channel at a time, in plain Python floats
        out = torch.empty_like(x)
        for c in range(x.shape[1]):
            values = x[:, c]
            mean = values.mean()
            var = values.var(unbiased=False)
            out[:, c] = (values - mean) / math.sqrt(var.item() + eps) * weight[c] + bias[c]
        return out

    exercises.check_batch_norm(with_torch)
    exercises.check_batch_norm(per_channel_loop)
    exercises.check_dropout(lambda x, keep, p, training: torch.where(keep.bool(), x / (1 - p), 0.0) if training else x)
    exercises.check_init_bound(lambda c, k, g: math.sqrt(3 * g * g / (c * k * k)))
    assert len(capsys.readouterr().out.splitlines()) == 4


def test_the_references_agree_with_torch():
    for case in training.batch_norm_cases():
        expected = F.batch_norm(case["x"], None, None, case["weight"], case["bias"], training=True, eps=case["eps"])
        assert torch.allclose(training.BATCH_NORM.reference(**case), expected, atol=1e-10)
    # inverted dropout: F.dropout zeroes with probability p and scales the rest by 1 / (1 - p)
    torch.manual_seed(0)
    x = torch.randn(4, 50, dtype=torch.float64)
    for p in (0.2, 0.5):
        out = F.dropout(x, p, training=True)
        keep = (out != 0).to(torch.float64)
        assert torch.allclose(training.DROPOUT.reference(x, keep, p, True), out)
        assert torch.equal(training.DROPOUT.reference(x, keep, p, False), F.dropout(x, p, training=False))
    # the bound: nn.init.kaiming_uniform_ with torch's gains draws up to it and no further
    for nonlinearity, gain, extra in (
        ("relu", math.sqrt(2), {}),
        ("tanh", 5 / 3, {}),
        ("leaky_relu", None, {"a": 5**0.5}),
    ):
        weight = torch.empty(256, 64, 3, 3)
        torch.manual_seed(1)
        nn.init.kaiming_uniform_(weight, nonlinearity=nonlinearity, **extra)
        gain = nn.init.calculate_gain(nonlinearity, *extra.values()) if gain is None else gain
        assert math.isclose(gain, nn.init.calculate_gain(nonlinearity, *extra.values()))
        bound = training.INIT_BOUND.reference(64, 3, gain)
        assert weight.abs().max().item() <= bound * (1 + 1e-6)
        assert weight.abs().max().item() > 0.999 * bound


def mistaken_batch_norm(dims=(0, 2, 3), unbiased=False, eps_inside=True, affine=True, swap=False, eps_used=True):
    def student(x, weight, bias, eps):
        mean = x.mean(dim=dims, keepdim=True)
        var = x.var(dim=dims, keepdim=True, unbiased=unbiased)
        e = eps if eps_used else 0.0
        y = (x - mean) / (torch.sqrt(var + e) if eps_inside else torch.sqrt(var) + e)
        if not affine:
            return y
        w, b = (bias, weight) if swap else (weight, bias)
        return y * w.view(1, -1, 1, 1) + b.view(1, -1, 1, 1)

    return student


def divided_by_variance(x, weight, bias, eps):
    mean, var = x.mean((0, 2, 3), keepdim=True), x.var((0, 2, 3), keepdim=True, unbiased=False)
    return (x - mean) / (var + eps) * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)


SLIPS = [dict(unbiased=True), dict(eps_inside=False), dict(affine=False), dict(swap=True)]
SLIPS += [dict(dims=dims) for dims in ((0, 1, 2, 3), (2, 3), (0,), (1, 2, 3))]


def test_the_checkers_mistaken_batch_norms_give_what_each_slip_gives_on_every_case():
    """Called here, not through the checker: the exercise builds its mistakes when the module is imported."""
    for case in training.batch_norm_cases():
        right = F.batch_norm(case["x"], None, None, case["weight"], case["bias"], training=True, eps=case["eps"])
        torch.testing.assert_close(training._batch_norm_with()(**case), right)
        for slip in SLIPS:
            torch.testing.assert_close(
                training._batch_norm_with(**slip)(**case), mistaken_batch_norm(**slip)(**case), equal_nan=True
            )
        torch.testing.assert_close(training._eps_left_out(**case), mistaken_batch_norm(eps_used=False)(**case))
        torch.testing.assert_close(training._divided_by_variance(**case), divided_by_variance(**case))


@pytest.mark.parametrize(
    ("student", "words"),
    [
        (mistaken_batch_norm(unbiased=True), "unbiased variance"),
        (mistaken_batch_norm(dims=(0, 1, 2, 3)), "all channels together"),
        (mistaken_batch_norm(dims=(2, 3)), "instance norm"),
        (mistaken_batch_norm(dims=(0,)), "batch axis only"),
        (mistaken_batch_norm(dims=(1, 2, 3)), "layer norm"),
        (mistaken_batch_norm(eps_inside=False), r"sqrt\(var\) \+ eps"),
        (mistaken_batch_norm(eps_used=False), "left out eps"),
        (mistaken_batch_norm(affine=False), "scale and shift"),
        (mistaken_batch_norm(swap=True), "swapped"),
        (divided_by_variance, "not by the variance"),
    ],
)
def test_batch_norm_mistakes_are_named(student, words):
    with pytest.raises(ExerciseFailed, match=words):
        exercises.check_batch_norm(student)


@pytest.mark.parametrize(
    ("student", "words"),
    [
        (lambda x, keep, p, training: x * keep if training else x, r"divided by 1 - p \(the share kept\)"),
        (lambda x, keep, p, training: x * keep / p if training else x, "not by p, the share dropped"),
        (lambda x, keep, p, training: x * keep * (1 - p) if training else x, "do not multiply"),
        (lambda x, keep, p, training: x * keep / (1 - p), "in evaluation dropout does nothing"),
        (lambda x, keep, p, training: x * keep / (1 - p) if training else x * (1 - p), "in evaluation"),
        (lambda x, keep, p, training: x * (1 - keep) / (1 - p) if training else x, "not by 1 - keep"),
    ],
)
def test_dropout_mistakes_are_named(student, words):
    with pytest.raises(ExerciseFailed, match=words):
        exercises.check_dropout(student)


@pytest.mark.parametrize(
    ("student", "words"),
    [
        (lambda c, k, g: g / math.sqrt(c * k * k), "that is the standard deviation"),
        (lambda c, k, g: g * math.sqrt(3 / c), "not in_channels"),
        (lambda c, k, g: g * math.sqrt(3 / (c * k)), "kernel_size\\*\\*2 taps"),
        (lambda c, k, g: g * g * 3 / (c * k * k), "that is the variance"),
        (lambda c, k, g: math.sqrt(3 / (c * k * k)), "left out the gain"),
        (lambda c, k, g: math.sqrt(3 * g / (c * k * k)), r"not sqrt\(3 \* gain / fan_in\)"),
        (lambda c, k, g: g * g * math.sqrt(3 / (c * k * k)), r"not gain\*\*2 \* sqrt"),
        (lambda c, k, g: math.sqrt(6 / (c * k * k)) * 1.01, "Hint: the weights' std"),  # unnamed: the general hint
    ],
)
def test_init_bound_mistakes_are_named(student, words):
    with pytest.raises(ExerciseFailed, match=words):
        exercises.check_init_bound(student)


def test_strange_answers_get_a_sentence():
    with pytest.raises(ExerciseFailed, match="returned None"):
        exercises.check_batch_norm(lambda x, w, b, eps: None)
    with pytest.raises(ExerciseFailed, match="one number"):
        exercises.check_init_bound(lambda c, k, g: [g, c])
    with pytest.raises(ExerciseFailed, match="not written yet"):
        exercises.check_dropout(lambda x, keep, p, training: (_ for _ in ()).throw(NotImplementedError))
