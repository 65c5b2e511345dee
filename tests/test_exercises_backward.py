"""Lesson 05's exercises: the references agree with torch, right answers written differently pass, and each
typical wrong answer is named."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnn_lessons import exercises
from cnn_lessons.exercises import backward

# --- the references, against torch -------------------------------------------------------------------------------


def test_output_padding_reference_gives_the_size_back_in_torch():
    for case in backward.output_padding_cases():
        n, k, s, p = case.values()
        a = backward.OUTPUT_PADDING.reference(**case)
        down = nn.Conv1d(1, 1, k, stride=s, padding=p)(torch.ones(1, 1, n))
        up = nn.ConvTranspose1d(1, 1, k, stride=s, padding=p, output_padding=a)
        assert up(down).shape[-1] == n


def test_input_gradient_reference_is_conv_transpose2d():
    for case in backward.gradient_cases():
        g, kernel, s = case.values()
        expected = F.conv_transpose2d(g[None, None].double(), kernel[None, None].double(), stride=s)[0, 0]
        torch.testing.assert_close(backward.INPUT_GRADIENT.reference(**case), expected)


def test_overlap_reference_counts_stamps():
    for case in backward.overlap_cases():
        n, k, s = case.values()
        counts = [0] * ((n - 1) * s + k)
        for i in range(n):
            for j in range(k):
                counts[i * s + j] += 1
        assert backward.OVERLAP_COUNTS.reference(**case).tolist() == counts


# --- right answers pass ------------------------------------------------------------------------------------------


def scatter_gradient(grad_output, kernel, stride):
    """Each dL/dy value stamps the kernel, scaled, stride cells apart (loops, lists in, a tensor out)."""
    oh, ow = grad_output.shape
    kh, kw = kernel.shape
    out = torch.zeros((oh - 1) * stride + kh, (ow - 1) * stride + kw)
    for i in range(oh):
        for j in range(ow):
            out[i * stride : i * stride + kh, j * stride : j * stride + kw] += grad_output[i, j] * kernel
    return out


def autograd_gradient(grad_output, kernel, stride):
    """Let torch do it: a zero input of the size the kernel covers, the forward pass, then backward."""
    (oh, ow), (kh, kw) = grad_output.shape, kernel.shape
    x = torch.zeros((oh - 1) * stride + kh, (ow - 1) * stride + kw, dtype=kernel.dtype, requires_grad=True)
    y = F.conv2d(x[None, None], kernel[None, None], stride=stride)[0, 0]
    y.backward(grad_output)
    return x.grad


def test_right_answers_written_differently_pass(capsys):
    exercises.check_output_padding(
        lambda size, kernel_size, stride, padding: (size + 2 * padding - kernel_size) % stride
    )
    exercises.check_input_gradient(scatter_gradient)
    exercises.check_input_gradient(autograd_gradient)
    exercises.check_overlap_counts(
        lambda n, k, s: [sum(1 for i in range(n) if 0 <= c - i * s < k) for c in range((n - 1) * s + k)]
    )
    out = capsys.readouterr().out
    assert out.count("\u2713") == 4


# --- wrong answers are named -------------------------------------------------------------------------------------


def _failure(check, answer) -> str:
    with pytest.raises(exercises.ExerciseFailed) as caught:
        check(answer)
    return str(caught.value)


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda n, k, s, p: 0, "you always answered 0"),
        (lambda n, k, s, p: s - 1, "you always answered s - 1"),
        (lambda n, k, s, p: n % s, "n mod s leaves out the kernel and the padding"),
        (lambda n, k, s, p: (n - k) % s, "you left out the padding"),
        (lambda n, k, s, p: (n + p - k) % s, "2p, not p"),
        (lambda n, k, s, p: (n + 2 * p - k + 1) % s, "one off"),
        (lambda n, k, s, p: (k - n - 2 * p) % s, "NEXT size"),
        (lambda n, k, s, p: ((n + 2 * p - k) // s) * s - 2 * p + k, "that is the transposed convolution's output size"),
        (lambda n, k, s, p: float((n + 2 * p - k) % s), "float"),
    ],
)
def test_output_padding_mistakes_are_named(answer, words):
    assert words in _failure(exercises.check_output_padding, answer)


def _full(g, kernel, stride, flip=True, zeros=None):
    """A hand-written full correlation of the stretched gradient (loops, independent of ops)."""
    zeros = stride - 1 if zeros is None else zeros
    step = zeros + 1
    stretched = torch.zeros((g.shape[0] - 1) * step + 1, (g.shape[1] - 1) * step + 1, dtype=torch.float64)
    stretched[::step, ::step] = g
    k = kernel.flip(0, 1) if flip else kernel
    return F.conv2d(stretched[None, None], k[None, None], padding=k.shape[0] - 1)[0, 0]


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda g, k, s: _full(g, k, s, flip=False), "you did not flip the kernel"),
        (lambda g, k, s: _full(g, k, 1), "you left out the stride's zeros"),
        (lambda g, k, s: F.conv2d(g[None, None], k[None, None], stride=s)[0, 0], "that is the forward pass"),
        (lambda g, k, s: _full(g, k.T, s, flip=False), "you transposed the kernel"),
        (lambda g, k, s: _full(g, k, s, zeros=s), "you put s zeros between values"),
        (lambda g, k, s: -scatter_gradient(g, k, s), "your signs are the other way round"),
        (lambda g, k, s: scatter_gradient(g, k, s)[None, None], "an extra axis of size 1"),
        (lambda g, k, s: None, "None"),
    ],
)
def test_input_gradient_mistakes_are_named(answer, words):
    assert words in _failure(exercises.check_input_gradient, answer)


def test_valid_correlation_is_named():
    def valid(g, k, s):
        stretched = torch.zeros((g.shape[0] - 1) * s + 1, (g.shape[1] - 1) * s + 1, dtype=torch.float64)
        stretched[::s, ::s] = g
        if stretched.shape[0] < k.shape[0] or stretched.shape[1] < k.shape[1]:
            return torch.zeros(0)
        return F.conv2d(stretched[None, None], k.flip(0, 1)[None, None])[0, 0]

    assert "you correlated without padding ('valid')" in _failure(exercises.check_input_gradient, valid)


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda n, k, s: F.conv_transpose1d(torch.ones(1, 1, n), torch.ones(1, 1, k))[0, 0], "you left out the stride"),
        (
            lambda n, k, s: F.conv_transpose1d(torch.ones(1, 1, n), torch.ones(1, 1, k), dilation=s)[0, 0],
            "that is dilation",
        ),
        (
            lambda n, k, s: [sum(1 for start in range(0, n - k + 1, s) if start <= c < start + k) for c in range(n)],
            "how many windows cover each INPUT cell",
        ),
        (lambda n, k, s: [-(-k // s)] * ((n - 1) * s + k), "ceil(k/s) copies everywhere"),
        (
            lambda n, k, s: [sum(1 for i in range(n) if 0 <= c - i * s < k) for c in range(n * s + k)],
            "not n*s + k",
        ),
    ],
)
def test_overlap_mistakes_are_named(answer, words):
    assert words in _failure(exercises.check_overlap_counts, answer)
