"""The exercise checkers accept right answers and reject wrong ones with feedback that names the mistake."""

import re

import pytest
import torch
import torch.nn.functional as F

from cnn_lessons import exercises
from cnn_lessons.exercises import ExerciseFailed


def correct_correlate1d(signal, kernel):
    n, k = len(signal), len(kernel)
    return [sum(signal[i + j] * kernel[j] for j in range(k)) for i in range(n - k + 1)]


def test_correlate1d_accepts_a_right_answer(capsys):
    exercises.check_correlate1d(correct_correlate1d)
    assert "correct on all 40 cases" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "feedback"),
    [
        (lambda x, w: correct_correlate1d(x, w.flip(0)), "you flipped the kernel: that is convolution"),
        (lambda x, w: correct_correlate1d(x, w)[:-1], "correlation has n - k + 1 = 6 outputs"),
        (lambda x, w: [v + 1 for v in correct_correlate1d(x, w)], "first difference at out[0]"),
        (lambda x, w: "six", "should return a list or tensor of numbers"),
    ],
)
def test_correlate1d_explains_mistakes(wrong, feedback):
    with pytest.raises(ExerciseFailed, match=re.escape(feedback)):
        exercises.check_correlate1d(wrong)


def test_a_starter_says_it_is_not_written_yet():
    def starter(signal, kernel):
        raise NotImplementedError

    with pytest.raises(ExerciseFailed, match="not written yet"):
        exercises.check_correlate1d(starter)


def test_a_crash_is_reported_with_its_case():
    with pytest.raises(ExerciseFailed, match=r"correlate1d\(signal=\[0.0, 1.0.*raised ZeroDivisionError"):
        exercises.check_correlate1d(lambda x, w: 1 / 0)


def torch_convolve2d(image, kernel):
    return F.conv2d(image[None, None], kernel.flip(0, 1)[None, None])[0, 0]


def test_convolve2d_checker():
    exercises.check_convolve2d(torch_convolve2d)
    with pytest.raises(ExerciseFailed, match="you did not flip the kernel"):
        exercises.check_convolve2d(lambda x, w: F.conv2d(x[None, None], w[None, None])[0, 0])
    with pytest.raises(ExerciseFailed, match="up-down only"):
        exercises.check_convolve2d(lambda x, w: F.conv2d(x[None, None], w.flip(0)[None, None])[0, 0])
    with pytest.raises(ExerciseFailed, match="transposed the kernel"):
        exercises.check_convolve2d(lambda x, w: F.conv2d(x[None, None], w.T[None, None])[0, 0])


def test_flipped_kernel_checker(capsys):
    exercises.check_flipped_kernel([[4, 3], [2, 1]])
    assert "convolves with [[1, 2], [3, 4]]" in capsys.readouterr().out
    with pytest.raises(ExerciseFailed, match="transpose"):
        exercises.check_flipped_kernel([[1, 3], [2, 4]])
    with pytest.raises(ExerciseFailed, match="2x2 kernel"):
        exercises.check_flipped_kernel([4, 3, 2, 1])


def right_output_size(i, k, s, p, d):
    return (i + 2 * p - d * (k - 1) - 1) // s + 1


@pytest.mark.parametrize(
    ("wrong", "feedback"),
    [
        (lambda i, k, s, p, d: (i + 2 * p - d * (k - 1) - 1) // s, "you left out the \\+ 1"),
        (lambda i, k, s, p, d: (i + 2 * p - k) // s + 1, "you ignored dilation"),
        (lambda i, k, s, p, d: (i + p - d * (k - 1) - 1) // s + 1, "padded one side only"),
        (lambda i, k, s, p, d: -(-(i + 2 * p - d * (k - 1) - 1) // s) + 1, "you rounded up"),
    ],
)
def test_output_size_checker_names_the_mistake(wrong, feedback):
    exercises.check_output_size(right_output_size)
    with pytest.raises(ExerciseFailed, match=feedback) as caught:
        exercises.check_output_size(wrong)
    assert "your output size is off by" in str(caught.value) and "expected" in str(caught.value)


def test_same_padding_checker():
    exercises.check_same_padding(lambda k, d: (d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2))
    with pytest.raises(ExerciseFailed, match="smaller half on the left"):
        exercises.check_same_padding(lambda k, d: (d * (k - 1) - d * (k - 1) // 2, d * (k - 1) // 2))
    with pytest.raises(ExerciseFailed, match=r"the total must be d\*\(k-1\)"):
        exercises.check_same_padding(lambda k, d: ((k - 1) // 2, (k - 1) - (k - 1) // 2))


def test_transposed_size_checker():
    exercises.check_transposed_output_size(lambda i, k, s, p, a: s * (i - 1) + a + k - 2 * p)
    with pytest.raises(ExerciseFailed, match="output_padding=1"):
        exercises.check_transposed_output_size(lambda i, k, s, p, a: s * (i - 1) + k - 2 * p)
    # the reference itself agrees with torch on the checker's cases
    y = torch.zeros(1, 1, 3)
    assert F.conv_transpose1d(y, torch.zeros(1, 1, 3), stride=2, padding=1, output_padding=1).shape[-1] == 6


def test_parameter_count_checker():
    exercises.check_conv_parameter_count(lambda i, o, k, b, g: (i // g * k * k + int(b)) * o)
    with pytest.raises(ExerciseFailed, match="you forgot the biases"):
        exercises.check_conv_parameter_count(lambda i, o, k, b, g: i // g * k * k * o)
    with pytest.raises(ExerciseFailed, match="in_channels / groups"):
        exercises.check_conv_parameter_count(lambda i, o, k, b, g: (i * k * k + int(b)) * o)


def test_receptive_field_checker():
    def right(layers):
        field, jump = 1, 1
        for k, s in layers:
            field, jump = field + (k - 1) * jump, jump * s
        return field

    exercises.check_receptive_field(right)
    with pytest.raises(ExerciseFailed, match="strides matter"):
        exercises.check_receptive_field(lambda layers: 1 + sum(k - 1 for k, _ in layers))


def test_basic_block_checker(capsys):
    from cnn_lessons.models import BasicBlock

    truth = sum(p.numel() for p in BasicBlock(64, 64).parameters())
    exercises.check_basic_block_parameters(truth)
    assert "= 73,984" in capsys.readouterr().out
    with pytest.raises(ExerciseFailed, match="left out the batch norms"):
        exercises.check_basic_block_parameters(2 * 64 * 64 * 9)


# --- lesson 03 -------------------------------------------------------------------------------------------------


def right_flatten_size(size, conv_channels, kernel_size, padding, pool):
    for _ in conv_channels:
        size = size + 2 * padding - kernel_size + 1
        if pool is not None:
            size //= pool
    return conv_channels[-1] * size * size


def test_flatten_size_checker_agrees_with_simple_cnn(capsys):
    from cnn_lessons.models import SimpleCNN

    exercises.check_flatten_size(right_flatten_size)
    assert "flatten_size: correct on all" in capsys.readouterr().out
    for case in exercises._flatten_cases():  # the reference is what SimpleCNN builds
        model = SimpleCNN(
            in_channels=1,
            conv_channels=case["conv_channels"],
            kernel_size=case["kernel_size"],
            padding=case["padding"],
            pool=case["pool"],
            input_size=case["size"],
        )
        assert exercises._flatten_trace(**case)[0] == model.flatten_size


@pytest.mark.parametrize(
    ("wrong", "feedback"),
    [
        (lambda s, ch, k, p, pool: right_flatten_size(s, ch, k, p, pool) // ch[-1], "multiply by the channels"),
        (lambda s, ch, k, p, pool: right_flatten_size(s, ch, k, p, pool) // ch[-1] * ch[0], "LAST block"),
        (lambda s, ch, k, p, pool: right_flatten_size(s, ch, k, p, None), "you left out the pooling"),
        (lambda s, ch, k, p, pool: right_flatten_size(s, ch, k, 0, pool), "padding adds zeros around the map"),
        (lambda s, ch, k, p, pool: "lots", "expected 54 = 6 x 3 x 3 (8 -> conv 6 -> pool 3), got 'lots'"),
    ],
)
def test_flatten_size_checker_names_the_mistake(wrong, feedback):
    with pytest.raises(ExerciseFailed, match=re.escape(feedback)) as caught:
        exercises.check_flatten_size(wrong)
    assert "cases wrong" in str(caught.value)


def test_flatten_size_checker_rounding_up():
    def ceil_pool(size, conv_channels, kernel_size, padding, pool):
        for _ in conv_channels:
            size = size + 2 * padding - kernel_size + 1
            if pool is not None:
                size = -(-size // pool)
        return conv_channels[-1] * size * size

    with pytest.raises(ExerciseFailed, match="rounds down"):
        exercises.check_flatten_size(ceil_pool)


def stable_cross_entropy(logits, labels):
    top = logits.max(dim=1, keepdim=True).values
    log_sum = top[:, 0] + (logits - top).exp().sum(dim=1).log()
    return (log_sum - logits[torch.arange(len(labels)), labels]).mean()


def test_cross_entropy_checker(capsys):
    exercises.check_cross_entropy(stable_cross_entropy)
    assert "including logits of \u00b11000" in capsys.readouterr().out
    exercises.check_cross_entropy(lambda logits, labels: F.cross_entropy(logits, labels).item())  # a float is fine


@pytest.mark.parametrize(
    ("wrong", "feedback"),
    [
        (
            lambda z, y: -(z.exp() / z.exp().sum(1, keepdim=True)).log()[torch.arange(len(y)), y].mean(),
            "exp overflowed",
        ),
        (lambda z, y: stable_cross_entropy(z, y) * len(y), "you returned the sum over the batch"),
        (lambda z, y: -stable_cross_entropy(z, y), "MINUS the log-probability"),
        (lambda z, y: -z[torch.arange(len(y)), y].mean(), "the logits are not probabilities"),
        (lambda z, y: F.cross_entropy(z, y, reduction="none"), "these are the per-example losses"),
        (lambda z, y: stable_cross_entropy(z, y) + 0.1, "expected 0.41703, got 0.51703"),
    ],
)
def test_cross_entropy_checker_names_the_mistake(wrong, feedback):
    with pytest.raises(ExerciseFailed, match=re.escape(feedback)):
        exercises.check_cross_entropy(wrong)


def test_lesson_03_starters_say_they_are_not_written_yet():
    def starter(*args):
        raise NotImplementedError("your code here")

    for check in (exercises.check_flatten_size, exercises.check_cross_entropy):
        with pytest.raises(ExerciseFailed, match="not written yet"):
            check(starter)
