"""cnn_lessons.arithmetic: hand-worked cases, torch over random configurations, and errors that teach."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cnn_lessons.arithmetic import (
    conv_output_size,
    conv_parameter_count,
    conv_transpose_output_size,
    effective_kernel_size,
    multiply_adds,
    pool_output_size,
    receptive_field,
    resolve_padding,
    same_padding,
)

MANY = settings(max_examples=250, deadline=None)


# --- hand-worked cases ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "dilation", "expected"),
    [
        (5, 3, 1, 0, 1, 3),  # 5 - 3 + 1
        (5, 3, 1, 1, 1, 5),  # 'half' padding keeps the size
        (5, 3, 2, 1, 1, 3),  # floor((5 + 2 - 3) / 2) + 1
        (6, 3, 2, 1, 1, 3),  # floor((6 + 2 - 3) / 2) + 1: one row is never reached
        (7, 3, 1, 0, 2, 3),  # dilated kernel spans 5: 7 - 5 + 1
        (224, 7, 2, 3, 1, 112),  # ResNet's stem
        (227, 11, 4, 0, 1, 55),  # AlexNet's first layer
        (4, 4, 1, "same", 1, 4),
        (5, 3, 1, "valid", 1, 3),
        (5, 3, 1, "full", 1, 7),
    ],
)
def test_conv_output_size_by_hand(size, kernel, stride, padding, dilation, expected):
    assert conv_output_size(size, kernel, stride, padding, dilation) == expected


def test_same_padding_splits_like_torch():
    assert same_padding(3) == (1, 1)
    assert same_padding(4) == (1, 2)  # even kernel: the extra zero goes on the right
    assert same_padding(4, dilation=2) == (3, 3)  # total d*(k-1) = 6
    assert same_padding(2, dilation=3) == (1, 2)
    assert effective_kernel_size(3, 4) == 9
    assert resolve_padding("full", 3, dilation=2) == (4, 4)


def test_pool_by_hand():
    assert pool_output_size(32, 2) == 16  # stride defaults to the kernel
    assert pool_output_size(5, 2) == 2  # floor: the last column is dropped
    assert pool_output_size(5, 2, ceil_mode=True) == 3  # ceil: a half window is kept
    assert pool_output_size(112, 3, 2, 1) == 56  # ResNet's max-pool


def test_transpose_by_hand():
    assert conv_transpose_output_size(3, 3, stride=2) == 7
    assert conv_transpose_output_size(3, 3, stride=2, padding=1, output_padding=1) == 6
    assert conv_transpose_output_size(2, 4, stride=2, padding=1) == 4  # the DCGAN doubling


def test_receptive_field_by_hand():
    assert receptive_field([]) == 1
    assert receptive_field([(3, 1), (3, 1)]) == 5  # two 3x3 see as far as one 5x5
    assert receptive_field([(3, 1)] * 3) == 7
    assert receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)]) == 15  # exponential growth with dilation
    assert receptive_field([(7, 2), (3, 2), (3, 1)]) == 7 + 2 * 2 + 2 * 2 * 2


def test_receptive_field_reads_a_sequential():
    stack = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, dilation=2))
    assert receptive_field(stack) == receptive_field([(3, 1), (2, 2), (3, 1, 2)]) == 1 + 2 + 1 + 2 * 2 * 2


def test_conv_parameter_count_by_hand():
    assert conv_parameter_count(3, 8, 3) == (3 * 9 + 1) * 8 == 224
    assert conv_parameter_count(8, 16, 3) == 1168
    assert conv_parameter_count(32, 32, 3, bias=False, groups=32) == 32 * 9  # depthwise
    assert conv_parameter_count(3, 8, (1, 5)) == (3 * 5 + 1) * 8


# --- against torch, many random configurations --------------------------------------------------------------

sizes = st.integers(1, 40)
kernels = st.integers(1, 9)
strides = st.integers(1, 5)
dilations = st.integers(1, 4)
paddings = st.one_of(st.integers(0, 6), st.sampled_from(["valid", "same"]))


def _torch_or_error(fn):
    try:
        return fn()
    except RuntimeError:
        return "error"


def _ours_or_error(fn):
    try:
        return fn()
    except ValueError:
        return "error"


@MANY
@given(size=sizes, kernel=kernels, stride=strides, padding=paddings, dilation=dilations)
def test_conv_output_size_matches_torch(size, kernel, stride, padding, dilation):
    x, w = torch.zeros(1, 1, size), torch.zeros(1, 1, kernel)
    expected = _torch_or_error(lambda: F.conv1d(x, w, stride=stride, padding=padding, dilation=dilation).shape[-1])
    if padding == "same" and stride != 1:
        expected = "error"  # torch raises ValueError-like RuntimeError; checked below too
    got = _ours_or_error(lambda: conv_output_size(size, kernel, stride, padding, dilation))
    assert got == expected


@MANY
@given(kernel=kernels, dilation=dilations, size=sizes)
def test_same_padding_matches_torch(kernel, dilation, size):
    x = torch.randn(1, 1, size, dtype=torch.float64)
    w = torch.randn(1, 1, kernel, dtype=torch.float64)
    left, right = same_padding(kernel, dilation)
    padded = F.pad(x, (left, right))
    if padded.shape[-1] < effective_kernel_size(kernel, dilation):
        return
    expected = F.conv1d(x, w, padding="same", dilation=dilation)
    assert torch.allclose(F.conv1d(padded, w, dilation=dilation), expected)


@MANY
@given(
    size=sizes,
    kernel=kernels,
    stride=st.none() | strides,
    padding=st.integers(0, 4),
    dilation=dilations,
    ceil_mode=st.booleans(),
)
def test_pool_output_size_matches_torch(size, kernel, stride, padding, dilation, ceil_mode):
    x = torch.zeros(1, 1, size)
    expected = _torch_or_error(
        lambda: F.max_pool1d(x, kernel, stride, padding, dilation, ceil_mode=ceil_mode).shape[-1]
    )
    got = _ours_or_error(lambda: pool_output_size(size, kernel, stride, padding, dilation, ceil_mode))
    assert got == expected


@MANY
@given(size=sizes, kernel=kernels, stride=strides, padding=st.integers(0, 3), ceil_mode=st.booleans())
def test_pool_output_size_matches_avg_pool(size, kernel, stride, padding, ceil_mode):
    x = torch.zeros(1, 1, size)
    expected = _torch_or_error(lambda: F.avg_pool1d(x, kernel, stride, padding, ceil_mode=ceil_mode).shape[-1])
    got = _ours_or_error(lambda: pool_output_size(size, kernel, stride, padding, 1, ceil_mode))
    assert got == expected


@MANY
@given(
    size=sizes,
    kernel=kernels,
    stride=strides,
    padding=st.integers(0, 5),
    output_padding=st.integers(0, 4),
    dilation=dilations,
)
def test_conv_transpose_output_size_matches_torch(size, kernel, stride, padding, output_padding, dilation):
    x, w = torch.zeros(1, 1, size), torch.zeros(1, 1, kernel)
    expected = _torch_or_error(
        lambda: F.conv_transpose1d(x, w, None, stride, padding, output_padding, 1, dilation).shape[-1]
    )
    got = _ours_or_error(lambda: conv_transpose_output_size(size, kernel, stride, padding, output_padding, dilation))
    assert got == expected


@MANY
@given(layers=st.lists(st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 3)), max_size=4))
def test_receptive_field_matches_gradient_footprint(layers):
    """The input positions that influence output 0 (found by backprop through all-ones kernels)."""
    field = receptive_field(layers)
    x = torch.ones(1, 1, field + 64, dtype=torch.float64, requires_grad=True)
    y = x
    for kernel, stride, dilation in layers:
        y = F.conv1d(y, torch.ones(1, 1, kernel, dtype=torch.float64), stride=stride, dilation=dilation)
    y[0, 0, 0].backward()
    touched = torch.nonzero(x.grad[0, 0]).flatten()
    assert int(touched[-1] - touched[0]) + 1 == field


@MANY
@given(
    in_per_group=st.integers(1, 6),
    out_per_group=st.integers(1, 6),
    groups=st.integers(1, 4),
    kh=st.integers(1, 5),
    kw=st.integers(1, 5),
    bias=st.booleans(),
)
def test_conv_parameter_count_matches_torch(in_per_group, out_per_group, groups, kh, kw, bias):
    cin, cout = in_per_group * groups, out_per_group * groups
    layer = nn.Conv2d(cin, cout, (kh, kw), bias=bias, groups=groups)
    assert conv_parameter_count(cin, cout, (kh, kw), bias, groups) == sum(p.numel() for p in layer.parameters())


# --- bad input: errors that say what went wrong and with which numbers --------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (
            lambda: conv_output_size(5, 3, dilation=4),
            ValueError,
            "a kernel of 3 with dilation 4 spans 9 positions",
        ),
        (lambda: conv_output_size(5, 3, dilation=4), ValueError, "only 5"),
        (lambda: conv_output_size(0, 3), ValueError, "size must be positive"),
        (lambda: conv_output_size(5, -1), ValueError, "kernel_size must be positive (at least 1), got -1"),
        (lambda: conv_output_size(5, 3, stride=0), ValueError, "stride must be positive"),
        (lambda: conv_output_size(5, 3, padding=-1), ValueError, "padding must be at least 0, got -1"),
        (lambda: conv_output_size(5.0, 3), TypeError, "size must be a whole number, got 5.0"),
        (lambda: conv_output_size(5, True), TypeError, "kernel_size must be a whole number"),
        (
            lambda: conv_output_size(5, 3, 2, "same"),
            ValueError,
            "padding='same' needs stride 1, got stride 2",
        ),
        (lambda: conv_output_size(5, 3, padding="half"), ValueError, "'valid', 'same', 'full'"),
        (lambda: pool_output_size(5, 2, padding=2), ValueError, "at most half the kernel size"),
        (lambda: pool_output_size(2, 3), ValueError, "a pooling window of 3 spans 3 positions"),
        (lambda: conv_transpose_output_size(3, 3, 2, output_padding=2), ValueError, "smaller than stride"),
        (lambda: conv_transpose_output_size(1, 1, padding=1), ValueError, "use padding at most 0"),
        (lambda: receptive_field([(3,)]), TypeError, "layer 0 must be a (kernel_size, stride)"),
        (lambda: receptive_field([(3, 0)]), ValueError, "stride of layer 0 must be positive"),
        (lambda: receptive_field("3x3"), TypeError, "sequence of (kernel_size, stride"),
        (
            lambda: conv_parameter_count(3, 8, 3, groups=2),
            ValueError,
            "in_channels (3) must be divisible by groups (2)",
        ),
        (lambda: conv_parameter_count(3, 8, (3, 3, 3)), ValueError, "(kh, kw) pair"),
    ],
)
def test_bad_input_teaches(call, error, words):
    with pytest.raises(error) as caught:
        call()
    assert words in str(caught.value)


class TwoPaths(nn.Module):
    """A 3x3 path and a 5x5 path added, then a stride-2 pool and a 3x3 conv: an Inception-like branch."""

    def __init__(self):
        super().__init__()
        self.narrow, self.wide = nn.Conv2d(1, 2, 3, padding=1), nn.Conv2d(1, 2, 5, padding=2)
        self.pool, self.after = nn.MaxPool2d(2), nn.Conv2d(2, 2, 3)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3))

    def forward(self, x):
        return self.head(self.after(self.pool(torch.relu(self.narrow(x) + self.wide(x)))))


def test_receptive_field_follows_the_widest_branch():
    # widest path: 5x5 (field 5), 2x2/2 pool (+1 -> 6, jump 2), 3x3 (+2*2 -> 10); the head adds nothing
    assert receptive_field(TwoPaths()) == receptive_field([(5, 1), (2, 2), (3, 1)]) == 10


def test_receptive_field_of_a_residual_block_counts_the_convolution_path():
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.ReLU(), nn.Conv2d(1, 1, 3, padding=1))

        def forward(self, x):
            return x + self.body(x)

    assert receptive_field(nn.Sequential(Residual(), Residual())) == 9  # 1 + 4 * 2


def test_multiply_adds_by_hand():
    # conv 1->2, 3x3 on 8x8 with padding 1: 2*8*8 outputs, 1*9 each; linear 2->3 after pooling: 3 outputs, 2 each
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3))
    assert multiply_adds(model, (1, 8, 8)) == 2 * 8 * 8 * 9 + 3 * 2
    depthwise = nn.Conv2d(4, 4, 3, groups=4)  # each output sees one channel: 9 multiply-adds, 4*6*6 outputs
    assert multiply_adds(depthwise, (4, 8, 8)) == 4 * 6 * 6 * 9
    assert multiply_adds(TwoPaths(), (1, 8, 8)) == 2 * 64 * 9 + 2 * 64 * 25 + 2 * 2 * 2 * 18 + 3 * 2
    with pytest.raises(ValueError, match="without the batch axis"):
        multiply_adds(model, 8)


def test_receptive_field_explains_an_untraceable_model():
    class DataDependent(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3)

        def forward(self, x):
            return self.conv(x) if x.sum() > 0 else x  # control flow on data: fx cannot trace it

    with pytest.raises(TypeError, match="could not trace DataDependent"):
        receptive_field(DataDependent())
