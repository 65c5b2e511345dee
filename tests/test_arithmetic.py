"""cnn_lessons.arithmetic: hand-worked cases, torch over random configurations, and errors that teach."""

import re

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cnn_lessons import models
from cnn_lessons.arithmetic import (
    conv_output_size,
    conv_parameter_count,
    conv_transpose_output_size,
    dense_parameter_count,
    effective_kernel_size,
    explain_shape_errors,
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


def test_dense_parameter_count_by_hand():
    assert dense_parameter_count(64, 10) == 64 * 10 + 10 == 650
    assert dense_parameter_count(64, 10, bias=False) == 640
    n = 3 * 224 * 224  # lesson 03, section 0: a photo to as many outputs as inputs
    assert dense_parameter_count(n, n) == 150_528 * 150_529 == 22_658_829_312


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


@MANY
@given(in_features=st.integers(1, 300), out_features=st.integers(1, 300), bias=st.booleans())
def test_dense_parameter_count_matches_torch(in_features, out_features, bias):
    layer = nn.Linear(in_features, out_features, bias=bias)
    assert dense_parameter_count(in_features, out_features, bias) == sum(p.numel() for p in layer.parameters())


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


def test_receptive_field_of_an_input_centred_by_a_buffer_is_its_convolution_s():
    class Centred(nn.Module):  # x - mean, a buffer, before the first window: the buffer widens nothing
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", torch.zeros(1, 1, 1, 1))
            self.conv = nn.Conv2d(1, 1, 3)

        def forward(self, x):
            return self.conv(x - self.mean)

    assert receptive_field(Centred()) == receptive_field(nn.Conv2d(1, 1, 3)) == 3


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


# --- multiply_adds on an input the model cannot take: the layer, the sizes and what would work -------------------


def _meta(build):
    with torch.device("meta"):
        return build().eval()


def _torch_takes(model, shape):
    try:
        with torch.no_grad():
            model(torch.zeros(1, *shape, device="meta"))
    except RuntimeError:
        return False
    return True


def test_multiply_adds_says_to_drop_a_batch_axis():
    alexnet = _meta(models.alexnet)
    with pytest.raises(ValueError) as caught:
        multiply_adds(alexnet, (1, 3, 224, 224))
    message = str(caught.value)
    assert message.startswith(
        "the model (Sequential) cannot take input_size=(1, 3, 224, 224): layer conv1.0 (Conv2d(3, 64"
    )
    assert "takes one input (C, H, W) or a batch (N, C, H, W), 3 or 4 axes, but gets 5 axes" in message
    assert message.endswith("without the batch axis: drop the leading 1, input_size=(3, 224, 224).")
    assert multiply_adds(alexnet, (3, 224, 224)) > 0  # what the message suggests works


def test_multiply_adds_explains_an_extra_axis_that_is_not_a_batch_of_one():
    conv = nn.Sequential(nn.Conv2d(3, 8, 3))
    with pytest.raises(ValueError) as caught:
        multiply_adds(conv, (2, 3, 32, 32))  # two inputs, not one: no advice about a leading 1, nor about sizes
    assert str(caught.value) == (
        "the model (Sequential) cannot take input_size=(2, 3, 32, 32): layer 0 (Conv2d(3, 8, kernel_size=(3, 3), "
        "stride=(1, 1))) takes one input (C, H, W) or a batch (N, C, H, W), 3 or 4 axes, but gets 5 axes, shape "
        "(1, 2, 3, 32, 32)."
    )


def test_multiply_adds_names_where_a_small_input_runs_out_and_the_smallest_that_works():
    alexnet = _meta(models.alexnet)
    with pytest.raises(ValueError) as caught:
        multiply_adds(alexnet, (3, 16, 16))
    message = str(caught.value)
    # 16 -> conv1 (11, stride 4, pad 2) 3 -> pool 1 -> conv2 (5, pad 2) 1: conv2's 3x3 pool gets a 1x1 map
    assert conv_output_size(16, 11, 4, 2) == 3 and pool_output_size(3, 3, 2) == 1
    assert (
        "layer conv2.2 (MaxPool2d(kernel_size=3, stride=2" in message and "gets a 1×1 map: along the height" in message
    )
    assert "a pooling window of 3 spans 3 positions, but the padded input has only 1" in message
    assert message.endswith("This model takes inputs of at least 63×63, e.g. input_size=(3, 63, 63).")
    assert _torch_takes(alexnet, (3, 63, 63)) and not _torch_takes(alexnet, (3, 62, 62))
    assert _torch_takes(alexnet, (3, 4096, 4096))


def test_multiply_adds_explains_a_head_built_for_one_size():
    lenet = _meta(models.lenet5)
    with pytest.raises(ValueError) as caught:
        multiply_adds(lenet, (1, 64, 64))
    message = str(caught.value)
    # c5's 5x5 conv gets a 13x13 map at 64 (64 -> 60 -> 30 -> 26 -> 13), so 120 * 9 * 9 values reach f6
    assert "layer f6.1 (Linear(in_features=120, out_features=84" in message
    assert f"takes 120 values per input, but the layers before it make {120 * 9 * 9}" in message
    assert message.endswith("This model takes inputs from 32×32 to 35×35, e.g. input_size=(1, 32, 32).")
    taken = [side for side in range(28, 40) if _torch_takes(lenet, (1, side, side))]
    assert taken == [32, 33, 34, 35]


def test_multiply_adds_explains_wrong_channels_and_a_single_size():
    alexnet = _meta(models.alexnet)
    with pytest.raises(
        ValueError, match=re.escape("takes 3 input channels, but gets 1 (shape (1, 1, 224, 224))")
    ) as caught:
        multiply_adds(alexnet, (1, 224, 224))
    assert str(caught.value).endswith("give the input 3 channels, e.g. (3, 224, 224).")
    one_size = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 4 * 4, 1))  # only 6x6 gives 2*4*4
    with pytest.raises(ValueError, match=re.escape("takes only a 6×6 input, e.g. input_size=(1, 6, 6).")):
        multiply_adds(one_size, (1, 7, 7))
    assert multiply_adds(one_size, (1, 6, 6)) == 2 * 4 * 4 * 9 + 32


def test_multiply_adds_explains_a_dilated_or_padded_window_in_1d():
    model = nn.Sequential(nn.Conv1d(2, 2, 3, dilation=3, padding=1), nn.AdaptiveMaxPool1d(1))  # spans 7, pads 2
    with pytest.raises(ValueError) as caught:
        multiply_adds(model, (2, 4))
    message = str(caught.value)
    assert "gets a length-4 map: along the length, a kernel of 3 with dilation 3 spans 7 positions" in message
    assert message.endswith("This model takes inputs of at least 5, e.g. input_size=(2, 5).")
    assert F.conv1d(torch.zeros(1, 2, 5), torch.zeros(2, 2, 3), dilation=3, padding=1).shape[-1] == 1


def test_multiply_adds_leaves_other_errors_alone_and_checks_its_arguments():
    class Fails(nn.Module):
        def forward(self, x):
            raise RuntimeError("not a shape problem")

    with pytest.raises(RuntimeError, match="not a shape problem"):
        multiply_adds(Fails(), (1, 4, 4))
    with pytest.raises(TypeError, match="multiply_adds needs an nn.Module .a model or a layer., got str"):
        multiply_adds("alexnet", (3, 224, 224))
    with pytest.raises(TypeError, match=re.escape("input_size[1] must be a whole number, got 224.0 (float)")):
        multiply_adds(nn.Conv2d(3, 1, 3), (3, 224.0, 224))
    with pytest.raises(ValueError, match=re.escape("input_size[0] must be positive (at least 1), got 0")):
        multiply_adds(nn.Conv2d(3, 1, 3), (0, 8, 8))
    with pytest.raises(ValueError, match=re.escape("e.g. (3, 224, 224) for an RGB image, got ()")):
        multiply_adds(nn.Conv2d(3, 1, 3), ())
    assert multiply_adds(nn.Conv2d(3, 1, 3), [3, 5, 5]) == 3 * 3 * 3 * 9  # a list is a shape too


def test_explain_shape_errors_leaves_the_model_as_it_was():
    model = nn.Sequential(nn.Conv2d(1, 1, 3), nn.BatchNorm2d(1), nn.Flatten(), nn.Linear(9, 1)).train()
    with pytest.raises(ValueError, match="takes only a 5×5 input"):
        multiply_adds(model, (1, 4, 4))
    assert model.training and all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert all(p.device.type == "cpu" for p in model.parameters())


# --- what mutation testing found (make mutation): names in messages, defaults, types, the model walk ------------


@pytest.mark.parametrize(
    ("function", "arguments", "name", "minimum"),
    [
        (effective_kernel_size, dict(kernel_size=3, dilation=1), "kernel_size", 1),
        (effective_kernel_size, dict(kernel_size=3, dilation=1), "dilation", 1),
        (conv_output_size, dict(size=9, kernel_size=3, stride=1, padding=0, dilation=1), "size", 1),
        (conv_output_size, dict(size=9, kernel_size=3, stride=1, padding=0, dilation=1), "kernel_size", 1),
        (conv_output_size, dict(size=9, kernel_size=3, stride=1, padding=0, dilation=1), "stride", 1),
        (conv_output_size, dict(size=9, kernel_size=3, stride=1, padding=0, dilation=1), "padding", 0),
        (conv_output_size, dict(size=9, kernel_size=3, stride=1, padding=0, dilation=1), "dilation", 1),
        (pool_output_size, dict(size=9, kernel_size=3, stride=1, padding=0, dilation=1), "size", 1),
        (pool_output_size, dict(size=9, kernel_size=3, stride=1, padding=0, dilation=1), "kernel_size", 1),
        (pool_output_size, dict(size=9, kernel_size=3, stride=1, padding=0, dilation=1), "stride", 1),
        (pool_output_size, dict(size=9, kernel_size=3, stride=1, padding=0, dilation=1), "padding", 0),
        (pool_output_size, dict(size=9, kernel_size=3, stride=1, padding=0, dilation=1), "dilation", 1),
        (conv_transpose_output_size, dict(size=4, kernel_size=3, stride=2, padding=0, output_padding=0), "size", 1),
        (conv_transpose_output_size, dict(size=4, kernel_size=3, stride=2, padding=0), "kernel_size", 1),
        (conv_transpose_output_size, dict(size=4, kernel_size=3, stride=2, padding=0), "stride", 1),
        (conv_transpose_output_size, dict(size=4, kernel_size=3, stride=2, padding=0), "padding", 0),
        (conv_transpose_output_size, dict(size=4, kernel_size=3, stride=2, output_padding=0), "output_padding", 0),
        (conv_transpose_output_size, dict(size=4, kernel_size=3, stride=2, dilation=1), "dilation", 1),
        (conv_parameter_count, dict(in_channels=4, out_channels=8, kernel_size=3, groups=1), "in_channels", 1),
        (conv_parameter_count, dict(in_channels=4, out_channels=8, kernel_size=3, groups=1), "out_channels", 1),
        (conv_parameter_count, dict(in_channels=4, out_channels=8, kernel_size=3, groups=1), "kernel_size", 1),
        (conv_parameter_count, dict(in_channels=4, out_channels=8, kernel_size=3, groups=1), "groups", 1),
        (dense_parameter_count, dict(in_features=4, out_features=8), "in_features", 1),
        (dense_parameter_count, dict(in_features=4, out_features=8), "out_features", 1),
    ],
)
def test_every_argument_is_named_in_its_error(function, arguments, name, minimum):
    too_small = minimum - 1
    with pytest.raises(ValueError) as caught:
        function(**{**arguments, name: too_small})
    bound = "positive (at least 1)" if minimum == 1 else "at least 0"
    assert str(caught.value) == f"{name} must be {bound}, got {too_small}"
    with pytest.raises(TypeError) as caught:
        function(**{**arguments, name: 2.5})
    assert str(caught.value) == f"{name} must be a whole number, got 2.5 (float)"


def test_the_other_arguments_are_named_too():
    with pytest.raises(ValueError, match=r"^kernel_size must be positive \(at least 1\), got 0$"):
        conv_parameter_count(4, 8, (3, 0))
    with pytest.raises(ValueError, match=r"^stride must be positive \(at least 1\), got 0$"):
        resolve_padding("same", 3, stride=0)
    with pytest.raises(ValueError, match=r"^kernel_size of layer 1 must be positive \(at least 1\), got 0$"):
        receptive_field([(3, 1), (0, 1)])
    with pytest.raises(ValueError, match=r"^dilation of layer 0 must be positive \(at least 1\), got 0$"):
        receptive_field([(3, 1, 0)])
    with pytest.raises(ValueError, match=r"^out_channels \(3\) must be divisible by groups \(2\): each group takes"):
        conv_parameter_count(4, 3, 3, groups=2)
    with pytest.raises(TypeError, match=r"or an nn.Module, got int$"):
        receptive_field(5)


def test_the_defaults_are_torchs():
    x = torch.zeros(1, 1, 7)
    assert conv_output_size(7, 3) == nn.Conv1d(1, 1, 3)(x).shape[-1] == 5  # stride 1, padding 0, dilation 1
    assert pool_output_size(7, 3) == nn.MaxPool1d(3)(x).shape[-1] == 2  # stride = kernel_size
    assert conv_transpose_output_size(7, 3) == nn.ConvTranspose1d(1, 1, 3)(x).shape[-1] == 9
    assert effective_kernel_size(3) == 3 and same_padding(4) == (1, 2)
    assert resolve_padding("same", 3) == (1, 1)  # stride 1 and dilation 1 by default: no error, total 2
    assert resolve_padding("full", 3) == (2, 2) and resolve_padding("valid", 3) == (0, 0)


def test_sizes_and_counts_are_ints():
    results = [
        conv_output_size(7, 3, 2, 1),
        pool_output_size(7, 3, ceil_mode=True),
        conv_transpose_output_size(4, 3, 2),
        conv_parameter_count(4, 8, 3, groups=2),
        conv_parameter_count(4, 8, (3, 1), bias=False),
        multiply_adds(nn.Conv2d(4, 4, 3, groups=2), (4, 5, 5)),
        dense_parameter_count(4, 8, bias=True),
    ]
    assert results == [4, 3, 9, (2 * 9 + 1) * 8, 4 * 3 * 8, 4 * 3 * 3 * 2 * 9, (4 + 1) * 8]
    assert all(type(result) is int for result in results)


def test_the_exact_messages_of_the_size_errors():
    with pytest.raises(ValueError) as caught:
        conv_output_size(2, 3)
    assert str(caught.value) == (
        "a kernel of 3 spans 3 positions, but the padded input has only 2 (input 2 plus padding 0); use a smaller "
        "kernel or dilation, or pad at least 1 in total"
    )
    with pytest.raises(ValueError) as caught:
        conv_output_size(3, 3, padding=1, dilation=3)
    assert str(caught.value) == (
        "a kernel of 3 with dilation 3 spans 7 positions, but the padded input has only 5 (input 3 plus padding 2); "
        "use a smaller kernel or dilation, or pad at least 4 in total"
    )
    with pytest.raises(ValueError) as caught:
        resolve_padding("same", 4, stride=2)
    assert str(caught.value).endswith("Use an int padding, e.g. padding=1, or stride=1.")  # same_padding(4) = (1, 2)
    with pytest.raises(ValueError) as caught:
        pool_output_size(5, 5, padding=3)
    assert str(caught.value) == (
        "pooling padding must be at most half the kernel size (kernel_size // 2 = 2), got padding 3: a window "
        "could then hold only padding"
    )
    with pytest.raises(ValueError) as caught:
        pool_output_size(2, 2, dilation=2, padding=0)
    assert str(caught.value) == (
        "a pooling window of 2 with dilation 2 spans 3 positions, but the padded input has only 2 (input 2 plus "
        "padding 0), so rounding down leaves no output; use a smaller window or a larger input"
    )
    with pytest.raises(ValueError) as caught:
        pool_output_size(1, 5, stride=1, padding=1, ceil_mode=True)
    assert str(caught.value) == (
        "a pooling window of 5 spans 5 positions, but the padded input has only 3 (input 1 plus padding 2), so "
        "rounding up (ceil_mode) leaves no output; use a smaller window or a larger input"
    )
    with pytest.raises(RuntimeError):  # torch refuses it too
        nn.MaxPool1d(5, stride=1, padding=1, ceil_mode=True)(torch.zeros(1, 1, 1))
    with pytest.raises(ValueError) as caught:
        conv_transpose_output_size(2, 2, padding=3)
    assert str(caught.value) == (
        "a transposed convolution of input 2, kernel 2, stride 1, dilation 1 and output_padding 0 makes 3 positions "
        "before cropping, and padding 3 crops 6 of them, leaving -3; use padding at most 1"
    )
    assert (
        conv_transpose_output_size(2, 2, padding=1)
        == nn.ConvTranspose1d(1, 1, 2, padding=1)(torch.zeros(1, 1, 2)).shape[-1]
    )


class _Gated(nn.Module):
    """conv 3x3, then a squeeze-and-excitation gate (global pooling -> 1x1 convs -> sigmoid), then conv 3x3."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3)
        self.squeeze, self.excite = nn.AdaptiveAvgPool2d(1), nn.Conv2d(1, 1, 1)

    def forward(self, x):
        x = self.conv1(x)
        return self.conv2(x * torch.sigmoid(self.excite(self.squeeze(x))))


class _FunctionalGlobal(nn.Module):
    def __init__(self, how):
        super().__init__()
        self.how, self.conv, self.conv1d, self.conv2 = how, nn.Conv2d(1, 1, 3), nn.Conv1d(1, 1, 3), nn.Conv2d(1, 1, 2)

    def forward(self, x):
        x = self.conv(x)
        if self.how == "flatten":
            return self.conv1d(x.flatten(2))  # positions are gone once the map is flattened
        if self.how == "torch.flatten":
            return self.conv1d(torch.flatten(x, 2))
        if self.how == "relu method":
            return self.conv2(x.relu())  # a method that keeps positions
        return self.conv2(F.adaptive_avg_pool2d(x, 2))


def test_the_model_walk_follows_gates_methods_and_global_pooling():
    assert receptive_field(_Gated()) == 5  # the gate is global context: the field goes on through conv2
    assert receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.AdaptiveAvgPool2d(2), nn.Conv2d(1, 1, 2))) == 3
    assert receptive_field(_FunctionalGlobal("adaptive")) == 3
    assert receptive_field(_FunctionalGlobal("flatten")) == 3
    assert receptive_field(_FunctionalGlobal("torch.flatten")) == 3
    assert receptive_field(_FunctionalGlobal("relu method")) == 3 + 1
    assert receptive_field(nn.Sequential(nn.ReLU())) == 1  # nothing widens it


def test_the_model_walk_reads_pooling_and_non_square_kernels():
    assert receptive_field(nn.Sequential(nn.MaxPool2d(3, stride=1), nn.Conv2d(1, 1, 3))) == 1 + 2 + 2
    assert receptive_field(nn.Sequential(nn.AvgPool2d(3, stride=1), nn.Conv2d(1, 1, 3))) == 1 + 2 + 2
    assert receptive_field(nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(1, 1, 3))) == 1 + 1 + 2 * 2
    assert receptive_field(nn.Sequential(nn.MaxPool2d(2, stride=1, dilation=3))) == 1 + 3
    assert receptive_field(nn.Sequential(nn.Conv2d(1, 1, (3, 5)))) == 3  # the first spatial axis
    assert receptive_field(nn.Conv2d(1, 1, 3, dilation=2)) == 5  # one layer alone (fx would trace into F.conv2d)
    assert receptive_field(nn.MaxPool2d(2)) == 2 and receptive_field(nn.ReLU()) == 1
    assert receptive_field(nn.Sequential(nn.MaxPool2d((2, 4), stride=(1, 2)), nn.Conv2d(1, 1, 3))) == 1 + 1 + 2
    with pytest.raises(TypeError, match=r"^receptive_field does not handle transposed convolutions \(ConvTranspose2d"):
        receptive_field(nn.Sequential(nn.ConvTranspose2d(1, 1, 3)))


# --- explain_shape_errors: which layer, and only when it really is the sizes -----------------------------------


class _Refuses:
    """Mixed into a layer: its forward fails for a reason that has nothing to do with sizes."""

    def forward(self, x):
        raise RuntimeError("not about sizes")


def _refusing(kind, *arguments, **keywords):
    return type(f"Refusing{kind.__name__}", (_Refuses, kind), {})(*arguments, **keywords)


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (_refusing(nn.Conv2d, 1, 1, 3, padding=1), (1, 1, 1, 1)),  # fits thanks to its padding
        (_refusing(nn.Conv2d, 1, 1, 3, padding="same"), (1, 1, 1, 1)),
        (_refusing(nn.MaxPool2d, 3, padding=1), (1, 1, 1, 1)),
        (_refusing(nn.MaxPool2d, 3, stride=3, ceil_mode=True), (1, 1, 3, 1)),
        (_refusing(nn.AvgPool2d, 2), (1, 1, 2, 2)),
        (_refusing(nn.Conv2d, 1, 1, 3), (1, 3, 3)),  # one unbatched input
        (_refusing(nn.Linear, 6, 1), (1, 5, 6)),  # a linear layer on the last axis of a 3-D input
    ],
)
def test_a_layer_that_fits_but_fails_otherwise_is_left_to_torch(layer, shape):
    with pytest.raises(RuntimeError, match="^not about sizes$"):
        with explain_shape_errors(layer, shape, batch_added=False):
            layer(torch.zeros(shape))


def test_explain_shape_errors_on_unbatched_input_and_without_a_batch_added():
    conv = nn.Conv2d(1, 1, 3)
    with pytest.raises(ValueError) as caught:
        with explain_shape_errors(conv, (3, 8, 8), batch_added=False):
            conv(torch.zeros(3, 8, 8))
    assert str(caught.value) == (
        "the model (Conv2d) cannot take input_size=(3, 8, 8): layer Conv2d (Conv2d(1, 1, kernel_size=(3, 3), "
        "stride=(1, 1))) takes 1 input channels, but gets 3 (shape (3, 8, 8)). If that is the model's first layer, "
        "give the input 1 channels, e.g. (1, 8, 8)."
    )
    with pytest.raises(ValueError) as caught:
        with explain_shape_errors(conv, (1, 2, 2), argument="image", batch_added=False):
            conv(torch.zeros(1, 2, 2))
    message = str(caught.value)
    assert message.startswith("the model (Conv2d) cannot take image=(1, 2, 2): layer Conv2d (Conv2d(1, 1, kernel_size")
    assert "gets a 2×2 map: along the height, a kernel of 3 spans 3 positions" in message
    assert message.endswith("This model takes inputs of at least 3×3, e.g. image=(1, 3, 3).")
    linear = nn.Linear(6, 1)
    with pytest.raises(ValueError, match=r"takes 6 values per input, but the layers before it make 4 \(its input"):
        with explain_shape_errors(linear, (1, 9, 4), batch_added=False):
            linear(torch.zeros(1, 9, 4))


def test_multiply_adds_explains_1d_channels_and_keyword_calls():
    conv1d = nn.Sequential(nn.Conv1d(3, 2, 3))
    with pytest.raises(ValueError, match=re.escape("give the input 3 channels, e.g. (3, 8).")):
        multiply_adds(conv1d, (1, 8))

    class Keyword(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Conv2d(1, 1, 3)

        def forward(self, x):
            return self.inner(input=x)  # the hooks see no positional tensor

    assert multiply_adds(Keyword(), (1, 5, 5)) == 9 * 9


class _Guard(nn.Module):
    """Refuses maps wider than 100 for a reason of its own (not a layer's sizes)."""

    def forward(self, x):
        if x.shape[-1] > 100:
            raise RuntimeError("too wide for this guard")
        return x


def test_the_size_search_gives_up_on_a_refusal_of_another_kind():
    with pytest.raises(ValueError) as caught:
        multiply_adds(nn.Sequential(nn.Conv2d(1, 1, 3), _Guard()), (1, 2, 2))
    assert str(caught.value).endswith("use a smaller kernel or dilation, or pad at least 1 in total.")


@pytest.mark.parametrize("side", range(1, 13))
def test_the_size_search_finds_a_head_built_for_one_size(side):
    model = nn.Sequential(nn.Flatten(), nn.Linear(side * side, 1))
    with pytest.raises(ValueError) as caught:
        multiply_adds(model, (1, side + 1, side + 1))
    assert str(caught.value).endswith(
        f"This model takes only a {side}×{side} input, e.g. input_size=(1, {side}, {side})."
    )
    assert multiply_adds(model, (1, side, side)) == side * side


def test_the_same_padding_suggestion_counts_the_dilation():
    with pytest.raises(ValueError, match=r"e\.g\. padding=3, or stride=1\.$"):
        resolve_padding("same", 3, stride=2, dilation=3)  # same_padding(3, 3) = (3, 3)


def test_explain_shape_errors_reads_a_pools_dilation():
    pool = nn.MaxPool2d(2, dilation=2)
    with pytest.raises(RuntimeError):
        pool(torch.zeros(1, 1, 2, 2))
    with pytest.raises(ValueError, match="a pooling window of 2 with dilation 2 spans 3 positions"):
        with explain_shape_errors(pool, (1, 1, 2, 2)):
            pool(torch.zeros(1, 1, 2, 2))


@pytest.mark.parametrize("pool", range(2, 9))
def test_the_size_search_finds_both_ends_of_a_range(pool):
    """conv 3x3, max-pool p, one linear input: (s - 2) // p must be 1, so s runs from p + 2 to 2p + 1."""
    model = nn.Sequential(nn.Conv2d(1, 1, 3), nn.MaxPool2d(pool), nn.Flatten(), nn.Linear(1, 1))
    with pytest.raises(ValueError) as caught:
        multiply_adds(model, (1, 3, 3))
    low, high = pool + 2, 2 * pool + 1
    assert str(caught.value).endswith(
        f"This model takes inputs from {low}×{low} to {high}×{high}, e.g. input_size=(1, {low}, {low})."
    )
    takes = [side for side in range(low - 1, high + 2) if _torch_takes(model.to("meta"), (1, side, side))]
    assert takes == list(range(low, high + 1))
