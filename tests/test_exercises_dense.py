"""Lesson 03's dense-vs-convolution exercise: the reference agrees with torch, right answers written differently
pass, each typical wrong answer is named, and answers of the wrong kind are explained."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from cnn_lessons import exercises
from cnn_lessons.exercises import counts


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --- the reference, against torch ------------------------------------------------------------------------------


def test_the_reference_counts_the_layers_torch_builds():
    """On the small cases (the large dense layers would hold up to 3*32*32 x 16*32*32 floats: counted, not built)."""
    small = [case for case in counts.dense_cases() if case["height"] * case["width"] <= 36]
    assert len(small) >= 40
    for case in small:
        h, w, i, o, k = (case[name] for name in ("height", "width", "in_channels", "out_channels", "kernel_size"))
        conv = nn.Conv2d(i, o, k, padding="same")
        x = torch.zeros(1, i, h, w)
        assert conv(x).shape == (1, o, h, w)  # the dense layer gives as many values as this convolution
        dense = nn.Linear(x.numel(), conv(x).numel())
        assert counts.dense_vs_conv(**case) == (n_params(dense), n_params(conv)), case


def test_the_cases_tell_the_arguments_apart():
    cases = counts.dense_cases()
    assert cases[0] == {"height": 6, "width": 6, "in_channels": 3, "out_channels": 4, "kernel_size": 3}
    assert any(c["height"] != c["width"] for c in cases)
    assert {c["in_channels"] for c in cases} == {1, 3} and {c["out_channels"] for c in cases} == {1, 4, 16}
    assert {c["kernel_size"] for c in cases} == {1, 3, 5}
    assert all(c["kernel_size"] <= min(c["height"], c["width"]) for c in cases)


# --- right answers pass ----------------------------------------------------------------------------------------


def by_torch(height, width, in_channels, out_channels, kernel_size):
    """Build the convolution for real; the dense layer's weight shape by meta tensors (no memory is used)."""
    conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding="same")
    dense = nn.Linear(in_channels * height * width, out_channels * height * width, device="meta")
    return n_params(dense), n_params(conv)


def in_steps(height, width, in_channels, out_channels, kernel_size):
    inputs, outputs = in_channels * height * width, out_channels * height * width
    weights = inputs * outputs
    return weights + outputs, out_channels * (in_channels * kernel_size**2 + 1)


def test_right_answers_written_differently_pass(capsys):
    exercises.check_dense_vs_conv(counts.dense_vs_conv)
    exercises.check_dense_vs_conv(in_steps)
    exercises.check_dense_vs_conv(by_torch)
    exercises.check_dense_vs_conv(lambda h, w, i, o, k: [np.int64((i * h * w + 1) * o * h * w), (i * k * k + 1) * o])
    out = capsys.readouterr().out
    assert out.count(f"\u2713 dense_vs_conv: correct on all {len(counts.dense_cases())} cases") == 4


# --- wrong answers are named -----------------------------------------------------------------------------------


def _failure(answer) -> str:
    with pytest.raises(exercises.ExerciseFailed) as caught:
        exercises.check_dense_vs_conv(answer)
    return str(caught.value)


def dense(h, w, i, o, k):
    return (i * h * w + 1) * o * h * w


def conv(h, w, i, o, k):
    return (i * k * k + 1) * o


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda h, w, i, o, k: (conv(h, w, i, o, k), dense(h, w, i, o, k)), "the pair is (dense, conv)"),
        (
            lambda h, w, i, o, k: (i * h * w * o * h * w, i * k * k * o),
            "you forgot the biases of both layers: the dense layer has one per output value",
        ),
        (
            lambda h, w, i, o, k: (i * h * w * o * h * w, conv(h, w, i, o, k)),
            "you forgot the dense layer's biases: one per output value, out_channels*height*width of them",
        ),
        (
            lambda h, w, i, o, k: (i * h * w * o * h * w + o, conv(h, w, i, o, k)),
            "a dense layer shares nothing: each of its out_channels*height*width outputs has its own bias",
        ),
        (
            lambda h, w, i, o, k: (i * h * w * (o * h * w + 1), conv(h, w, i, o, k)),
            "one bias per OUTPUT value (out_channels*height*width), not one per input value",
        ),
        (
            lambda h, w, i, o, k: ((i * h * w + 1) * o, conv(h, w, i, o, k)),
            "one output per output VALUE: out_channels*height*width of them, not out_channels",
        ),
        (
            lambda h, w, i, o, k: ((i * h * w + 1) * i * h * w, conv(h, w, i, o, k)),
            "holds only when out_channels equals in_channels",
        ),
        (
            lambda h, w, i, o, k: ((h * w + 1) * o * h * w, conv(h, w, i, o, k)),
            "the dense layer reads every input channel: in_channels*height*width inputs, not height*width",
        ),
        (
            lambda h, w, i, o, k: ((i * h * w + 1) * h * w, conv(h, w, i, o, k)),
            "the dense layer writes every output channel: out_channels*height*width outputs, not height*width",
        ),
        (
            lambda h, w, i, o, k: (dense(h, w, i, o, k), i * k * k * o),
            "you forgot the convolution's biases: one per output channel",
        ),
        (
            lambda h, w, i, o, k: (dense(h, w, i, o, k), (i * k * k + 1) * o * h * w),
            "a separate kernel at every one of the height*width positions in your count (locality without weight "
            "sharing)",
        ),
        (
            lambda h, w, i, o, k: (dense(h, w, i, o, k), i * k * k * o + o * h * w),
            "the convolution's bias is shared too: one per output channel, not one per output value",
        ),
        (
            lambda h, w, i, o, k: (dense(h, w, i, o, k), (k * k + 1) * o),
            "each kernel of the convolution spans every input channel: in_channels*k*k weights",
        ),
        (lambda h, w, i, o, k: (dense(h, w, i, o, k), (i * k + 1) * o), "a k x k kernel has k*k weights"),
        (
            lambda h, w, i, o, k: (dense(h, w, i, o, k), i * k * k + 1),
            "one kernel and one bias per output channel: multiply by out_channels",
        ),
    ],
)
def test_each_mistake_is_named(answer, words):
    assert words in _failure(answer)


def test_the_message_shows_the_case_the_working_and_the_hint():
    message = _failure(lambda h, w, i, o, k: (i * h * w * o * h * w, conv(h, w, i, o, k)))
    assert message == (
        "for height=6, width=6, in_channels=3, out_channels=4, kernel_size=3: expected (15,696, 112) = "
        "((3*6*6 + 1) * 4*6*6, (3*3*3 + 1) * 4), got (15,552, 112) (102 of 102 cases wrong). Hint: you forgot the "
        "dense layer's biases: one per output value, out_channels*height*width of them."
    )


def test_a_mistake_in_each_layer_names_the_dense_one_first():
    """Wrong in both numbers: the dense layer's mistake is named; once it is fixed, the convolution's."""
    message = _failure(lambda h, w, i, o, k: (i * h * w * o * h * w, i * k * k * o * h * w + o * h * w))
    assert "you forgot the dense layer's biases" in message


def test_an_unnamed_mistake_gets_the_general_hint():
    message = _failure(lambda h, w, i, o, k: (dense(h, w, i, o, k) + 1, conv(h, w, i, o, k)))
    assert "Hint: dense: (inputs + 1) * outputs, with inputs = in_channels*height*width" in message
    assert "(102 of 102 cases wrong)" in message


# --- answers of the wrong kind are explained -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda h, w, i, o, k: None, "returned None: did you forget `return`?"),
        (
            lambda h, w, i, o, k: (dense(h, w, i, o, k) / 1, conv(h, w, i, o, k)),
            "Parameter counts are whole numbers, ints; `/` always gives a float",
        ),
        (lambda h, w, i, o, k: dense(h, w, i, o, k), "Return both numbers as a pair: (dense, conv)"),
        (lambda h, w, i, o, k: dense(h, w, i, o, k) / conv(h, w, i, o, k), "a single number, 140.14"),
        (lambda h, w, i, o, k: (dense(h, w, i, o, k), conv(h, w, i, o, k), 0), "(dense, conv) has two numbers"),
        (lambda h, w, i, o, k: f"{dense(h, w, i, o, k)}, {conv(h, w, i, o, k)}", "not text"),
        (
            lambda h, w, i, o, k: torch.tensor([dense(h, w, i, o, k), conv(h, w, i, o, k)]),
            "Return a tuple of two plain ints, (dense, conv), not a tensor",
        ),
        (
            lambda h, w, i, o, k: (dense(h, w, i, o, k), torch.tensor(conv(h, w, i, o, k))),
            "Each number of (dense, conv) must be an int",
        ),
        (lambda h, w, i, o, k: {"dense": 1, "conv": 2}, "has no order"),
        (lambda h, w, i, o, k: math.prod([h, w]) // 0, "ZeroDivisionError"),
    ],
)
def test_answers_of_the_wrong_kind_are_explained(answer, words):
    assert words in _failure(answer)


def test_a_value_instead_of_the_function_is_explained():
    with pytest.raises(exercises.ExerciseFailed, match="pass the function itself, without calling it"):
        exercises.check_dense_vs_conv((15_696, 112))


def test_the_wrong_parameters_are_explained():
    with pytest.raises(exercises.ExerciseFailed, match=r"with 5 arguments in this order"):
        exercises.check_dense_vs_conv(lambda size, channels: (0, 0))
