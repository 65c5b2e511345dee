"""cnn_lessons.ops: from-scratch correlation and convolution, equal to torch over many configurations."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnn_lessons import ops
from cnn_lessons.arithmetic import effective_kernel_size, resolve_padding

MANY = settings(max_examples=250, deadline=None)
TOL = dict(atol=1e-5, rtol=1e-5)


def _torch_padding(padding, kernel, dilation):
    """torch takes ints, 'valid' and 'same'; 'full' is d*(k-1) zeros on both sides."""
    return effective_kernel_size(kernel, dilation) - 1 if padding == "full" else padding


def _fits(size, kernel, stride, padding, dilation):
    if padding == "same" and stride != 1:
        return False
    left, right = resolve_padding(padding, kernel, stride, dilation)
    return size + left + right >= effective_kernel_size(kernel, dilation)


# --- hand-worked ----------------------------------------------------------------------------------------------


def test_correlation_and_convolution_by_hand():
    signal, kernel = [1.0, 2, 3, 4], [1.0, 0, -1]
    assert ops.correlate1d(signal, kernel).tolist() == [1 - 3, 2 - 4]  # x[i] - x[i+2]
    assert ops.convolve1d(signal, kernel).tolist() == [3 - 1, 4 - 2]  # flipped: x[i+2] - x[i]
    assert ops.correlate1d(signal, kernel, padding="full").tolist() == [-1, -2, -2, -2, 3, 4]
    image = torch.arange(9.0).view(3, 3)
    assert ops.correlate2d(image, [[1.0, 0], [0, 0]]).tolist() == [[0, 1], [3, 4]]  # top-left tap
    assert ops.convolve2d(image, [[1.0, 0], [0, 0]]).tolist() == [[4, 5], [7, 8]]  # flipped: bottom-right


def test_integer_input_becomes_float():
    assert ops.correlate1d([1, 2, 3], [1, 1]).dtype == torch.get_default_dtype()
    assert ops.correlate1d(torch.ones(4, dtype=torch.float64), [1, 1]).dtype == torch.float64


def test_window_step_matches_the_full_output():
    torch.manual_seed(0)
    image, kernel = torch.randn(7, 8), torch.randn(3, 2)
    full = ops.convolve2d(image, kernel, stride=2, padding=1, dilation=(1, 2))
    for i in range(full.shape[0]):
        for j in range(full.shape[1]):
            step = ops.window_step2d(image, kernel, (i, j), stride=2, padding=1, dilation=(1, 2), flip=True)
            assert step.total == pytest.approx(float(full[i, j]), abs=1e-5)
            assert torch.equal(step.products, step.window * kernel.flip(0, 1))
            assert step.output_shape == tuple(full.shape)
    signal = torch.arange(6.0)
    step = ops.window_step1d(signal, [1.0, 2.0], 2, stride=2, padding=1)
    assert step.cols.tolist() == [4, 5]  # padded indices: one zero on the left
    assert step.window.tolist() == [3.0, 4.0] and step.total == 3 + 8


# --- against torch, many random configurations --------------------------------------------------------------

paddings = st.one_of(st.integers(0, 4), st.sampled_from(["valid", "same", "full"]))


@MANY
@given(
    size=st.integers(1, 30),
    kernel=st.integers(1, 7),
    stride=st.integers(1, 4),
    padding=paddings,
    dilation=st.integers(1, 3),
    flip=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_1d_matches_torch(size, kernel, stride, padding, dilation, flip, seed):
    assume(_fits(size, kernel, stride, padding, dilation))
    g = torch.Generator().manual_seed(seed)
    x, w = torch.randn(size, generator=g), torch.randn(kernel, generator=g)
    applied = w.flip(0) if flip else w
    expected = F.conv1d(
        x[None, None],
        applied[None, None],
        stride=stride,
        dilation=dilation,
        padding=_torch_padding(padding, kernel, dilation),
    )[0, 0]
    ours = (ops.convolve1d if flip else ops.correlate1d)(x, w, stride, padding, dilation)
    torch.testing.assert_close(ours, expected, **TOL)
    torch.testing.assert_close(ops.correlate1d_loops(x, applied, stride, padding, dilation), expected, **TOL)


pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))


@MANY
@given(
    h=st.integers(1, 14),
    w=st.integers(1, 14),
    kh=st.integers(1, 5),
    kw=st.integers(1, 5),
    stride=st.integers(1, 3) | pairs,
    padding=paddings | st.tuples(st.integers(0, 3), st.integers(0, 3)),
    dilation=st.integers(1, 3) | pairs,
    flip=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_2d_matches_torch(h, w, kh, kw, stride, padding, dilation, flip, seed):
    sh, sw = ops.pair(stride, "stride")
    ph, pw = ops.pair(padding, "padding")
    dh, dw = ops.pair(dilation, "dilation")
    assume(_fits(h, kh, sh, ph, dh) and _fits(w, kw, sw, pw, dw))
    assume(not (isinstance(padding, str) and padding == "same" and stride != 1))
    g = torch.Generator().manual_seed(seed)
    image, kernel = torch.randn(h, w, generator=g), torch.randn(kh, kw, generator=g)
    applied = kernel.flip(0, 1) if flip else kernel
    torch_padding = (
        (_torch_padding(ph, kh, dh), _torch_padding(pw, kw, dw))
        if not isinstance(padding, str) or padding == "full"
        else padding
    )
    expected = F.conv2d(
        image[None, None], applied[None, None], stride=stride, padding=torch_padding, dilation=dilation
    )[0, 0]
    ours = (ops.convolve2d if flip else ops.correlate2d)(image, kernel, stride, padding, dilation)
    torch.testing.assert_close(ours, expected, **TOL)


@settings(max_examples=200, deadline=None)
@given(
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    stride=st.integers(1, 2) | pairs,
    padding=st.integers(0, 2),
    dilation=st.integers(1, 2) | pairs,
    seed=st.integers(0, 2**16),
)
def test_2d_loops_match_torch(h, w, kh, kw, stride, padding, dilation, seed):
    sh, sw = ops.pair(stride, "stride")
    dh, dw = ops.pair(dilation, "dilation")
    assume(_fits(h, kh, sh, padding, dh) and _fits(w, kw, sw, padding, dw))
    g = torch.Generator().manual_seed(seed)
    image, kernel = torch.randn(h, w, generator=g), torch.randn(kh, kw, generator=g)
    expected = F.conv2d(image[None, None], kernel[None, None], stride=stride, padding=padding, dilation=dilation)
    torch.testing.assert_close(ops.correlate2d_loops(image, kernel, stride, padding, dilation), expected[0, 0], **TOL)


@MANY
@given(
    batch=st.integers(1, 3),
    groups=st.integers(1, 3),
    in_per_group=st.integers(1, 3),
    out_per_group=st.integers(1, 3),
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    stride=st.integers(1, 3) | pairs,
    padding=st.integers(0, 3) | st.sampled_from(["valid", "same"]) | st.tuples(st.integers(0, 2), st.integers(0, 2)),
    dilation=st.integers(1, 3) | pairs,
    bias=st.booleans(),
    unbatched=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_conv2d_matches_torch(
    batch, groups, in_per_group, out_per_group, h, w, kh, kw, stride, padding, dilation, bias, unbatched, seed
):
    sh, sw = ops.pair(stride, "stride")
    ph, pw = ops.pair(padding, "padding")
    dh, dw = ops.pair(dilation, "dilation")
    assume(_fits(h, kh, sh, ph, dh) and _fits(w, kw, sw, pw, dw))
    assume(not (padding == "same" and stride != 1))
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, in_per_group * groups, h, w, generator=g)
    if unbatched:
        x = x[0]
    weight = torch.randn(out_per_group * groups, in_per_group, kh, kw, generator=g)
    b = torch.randn(out_per_group * groups, generator=g) if bias else None
    expected = F.conv2d(x, weight, b, stride, padding, dilation, groups)
    torch.testing.assert_close(ops.conv2d(x, weight, b, stride, padding, dilation, groups), expected, **TOL)


# --- bad input --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (
            lambda: ops.correlate1d(torch.ones(5), torch.ones(3), dilation=4),
            ValueError,
            "a kernel of 3 with dilation 4 spans 9 positions, but the padded input has only 5",
        ),
        (
            lambda: ops.correlate1d(torch.ones(5), torch.ones(3), padding=1, dilation=4),
            ValueError,
            "padded input has only 7 (input 5 plus padding 2)",
        ),
        (
            lambda: ops.correlate2d(torch.ones(3, 8), torch.ones(2, 2), dilation=3),
            ValueError,
            "along the height: a kernel of 2 with dilation 3 spans 4 positions",
        ),
        (lambda: ops.correlate2d(torch.ones(8, 3), torch.ones(2, 5)), ValueError, "along the width"),
        (
            lambda: ops.correlate1d(torch.ones(3, 3), torch.ones(2)),
            ValueError,
            "signal must be 1-D, got a 2-D tensor of shape (3, 3)",
        ),
        (
            lambda: ops.correlate2d(torch.ones(4), torch.ones(2, 2)),
            ValueError,
            "image must be 2-D, got a 1-D",
        ),
        (lambda: ops.correlate1d(torch.ones(0), torch.ones(1)), ValueError, "signal is empty"),
        (lambda: ops.correlate1d([1.0, 2.0], [1.0], stride=0), ValueError, "stride must be positive"),
        (lambda: ops.correlate1d([1.0, 2.0], [1.0], stride=1.5), TypeError, "stride must be a whole number"),
        (
            lambda: ops.correlate1d([1.0, 2.0], [1.0], stride=2, padding="same"),
            ValueError,
            "padding='same' needs stride 1",
        ),
        (
            lambda: ops.correlate2d(torch.ones(4, 4), torch.ones(2, 2), stride=(1, 2, 3)),
            ValueError,
            "stride must be an int or an (h, w) pair",
        ),
        (lambda: ops.correlate1d("abc", [1.0]), TypeError, "signal must be a tensor"),
        (lambda: ops.correlate1d(torch.ones(3, dtype=torch.complex64), [1.0]), TypeError, "must be real"),
        (
            lambda: ops.conv2d(torch.ones(1, 3, 5, 5), torch.ones(4, 2, 3, 3)),
            ValueError,
            "input has 3 channels, but weight of shape (4, 2, 3, 3) with groups=1 expects 2 x 1 = 2",
        ),
        (
            lambda: ops.conv2d(torch.ones(1, 4, 5, 5), torch.ones(3, 2, 3, 3), groups=2),
            ValueError,
            "weight has 3 output channels, which groups=2 cannot split evenly",
        ),
        (
            lambda: ops.conv2d(torch.ones(1, 1, 5, 5), torch.ones(2, 1, 3, 3), bias=torch.ones(3)),
            ValueError,
            "bias must have one entry per output channel (2), got 3",
        ),
        (
            lambda: ops.conv2d(torch.ones(5, 5), torch.ones(1, 1, 3, 3)),
            ValueError,
            "input must be 3-D or 4-D",
        ),
        (
            lambda: ops.window_step1d(torch.ones(5), torch.ones(3), 3),
            ValueError,
            "position 3 is outside the output, which has 3 positions (0..2)",
        ),
        (
            lambda: ops.window_step2d(torch.ones(5, 5), torch.ones(3, 3), (0, 4)),
            ValueError,
            "position (column) 4",
        ),
    ],
)
def test_bad_input_teaches(call, error, words):
    with pytest.raises(error) as caught:
        call()
    assert words in str(caught.value)
