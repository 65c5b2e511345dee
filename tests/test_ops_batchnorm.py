"""ops.batch_norm2d: from-scratch batch normalisation, equal to F.batch_norm and nn.BatchNorm2d in both modes."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cnn_lessons import ops

MANY = settings(max_examples=150, deadline=None)
TOL = dict(atol=1e-5, rtol=1e-5)


@st.composite
def batches(draw, min_count=2):
    """A random (N, C, H, W) float32 batch with N*H*W >= min_count, its affine parameters and running statistics."""
    n, c = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    if n * h * w < min_count:
        n = min_count
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    # the shift at most 20 standard deviations: far beyond that, float32 loses the spread to rounding in the mean
    # (values of -100 +- 0.01) and torch's own result is off from float64 arithmetic by 1e-3, as ours is
    scale, shift = draw(st.sampled_from([0.01, 1.0, 30.0])), draw(st.sampled_from([0.0, 5.0, -20.0]))
    x = torch.randn(n, c, h, w, generator=g) * scale + shift * scale
    affine = draw(st.booleans())
    weight = torch.randn(c, generator=g) if affine else None
    bias = torch.randn(c, generator=g) if affine else None
    mean = torch.randn(c, generator=g) * 2
    var = torch.rand(c, generator=g) * 3 + 0.1
    momentum = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    eps = draw(st.sampled_from([1e-5, 1e-3, 0.1]))
    return x, weight, bias, mean, var, momentum, eps


@MANY
@given(batches())
def test_training_mode_equals_f_batch_norm_with_running_statistics(case):
    x, weight, bias, mean, var, momentum, eps = case
    ours_mean, ours_var = mean.clone(), var.clone()
    torch_mean, torch_var = mean.clone(), var.clone()
    ours = ops.batch_norm2d(x, ours_mean, ours_var, weight, bias, training=True, momentum=momentum, eps=eps)
    expected = F.batch_norm(x, torch_mean, torch_var, weight, bias, training=True, momentum=momentum, eps=eps)
    # the outputs are normalised (order 1), but a mean 20 spreads away from 0 keeps fewer digits in float32, and
    # torch and we add up in different orders: ours must be as near the float64 result as torch's is (twice its
    # error, or 1e-5), and near torch's
    as_double = [None if t is None else t.double() for t in (weight, bias)]
    exact = F.batch_norm(x.double(), mean.double(), var.double(), *as_double, training=True, momentum=momentum, eps=eps)
    torch_error = (expected.double() - exact).abs().max()
    assert (ours.double() - exact).abs().max() <= 2 * torch_error + 1e-5
    assert torch.allclose(ours, expected, atol=1e-4, rtol=1e-5)
    assert torch.allclose(ours_mean, torch_mean, **TOL)
    assert torch.allclose(ours_var, torch_var, atol=1e-5, rtol=1e-4)  # a variance of 900 keeps ~4 digits in float32


@MANY
@given(batches(min_count=1))
def test_eval_mode_equals_f_batch_norm_and_changes_nothing(case):
    x, weight, bias, mean, var, momentum, eps = case
    before_mean, before_var = mean.clone(), var.clone()
    ours = ops.batch_norm2d(x, mean, var, weight, bias, training=False, momentum=momentum, eps=eps)
    expected = F.batch_norm(x, before_mean, before_var, weight, bias, training=False, momentum=momentum, eps=eps)
    assert torch.allclose(ours, expected, atol=1e-4, rtol=1e-5)  # eval output is not normalised: scale-relative
    assert torch.equal(mean, before_mean) and torch.equal(var, before_var)


def test_eval_mode_keeps_the_inputs_dtype_whatever_the_running_statistics_are_kept_in():
    x = torch.randn(2, 3, 4, 4)
    mean, var = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    ours = ops.batch_norm2d(x, mean, var, training=False)
    assert ours.dtype == torch.float32 and torch.allclose(ours, x / math.sqrt(1 + 1e-5))


@MANY
@given(batches(), st.integers(1, 4))
def test_several_steps_then_eval_equal_nn_batchnorm2d(case, steps):
    """A module's parameters and buffers through training steps and an eval step, ours beside torch's.

    In float64: the steps shift and scale the batch, and a channel of values near 140 that differ by less than
    one (hypothesis finds them) leaves float32 about four digits after normalising, in torch as in ours."""
    x, weight, bias, _, _, momentum, eps = case
    x = x.double()
    channels = x.shape[1]
    layer = nn.BatchNorm2d(channels, eps=eps, momentum=momentum).double()
    if weight is not None:
        with torch.no_grad():
            layer.weight.copy_(weight)
            layer.bias.copy_(bias)
    running_mean, running_var = layer.running_mean.clone(), layer.running_var.clone()
    layer.train()
    for step in range(steps):
        batch = x * (1 + step / 2) + step * x.abs().mean()  # each step sees different statistics, as well scaled
        with torch.no_grad():
            expected = layer(batch)
        ours = ops.batch_norm2d(
            batch, running_mean, running_var, layer.weight.detach(), layer.bias.detach(), True, momentum, eps
        )
        assert torch.allclose(ours, expected, **TOL)
        assert torch.allclose(running_mean, layer.running_mean, **TOL)
        assert torch.allclose(running_var, layer.running_var, atol=1e-5, rtol=1e-4)
    layer.eval()
    with torch.no_grad():
        expected = layer(x)
    ours = ops.batch_norm2d(
        x, running_mean, running_var, layer.weight.detach(), layer.bias.detach(), False, momentum, eps
    )
    assert torch.allclose(ours, expected, atol=1e-4, rtol=1e-4)


def test_training_mode_normalises_each_channel_with_the_biased_variance():
    torch.manual_seed(0)
    x = torch.randn(8, 3, 4, 4, dtype=torch.float64) * torch.tensor([1.0, 10, 0.1]).view(1, 3, 1, 1) + 7
    y = ops.batch_norm2d(x, eps=0.0)
    assert torch.allclose(y.mean(dim=(0, 2, 3)), torch.zeros(3, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(y.var(dim=(0, 2, 3), unbiased=False), torch.ones(3, dtype=torch.float64), atol=1e-12)


def test_running_var_takes_the_unbiased_variance():
    x = torch.tensor([1.0, 3.0]).view(2, 1, 1, 1)  # mean 2, biased variance 1, unbiased 2
    mean, var = torch.zeros(1), torch.ones(1)
    ops.batch_norm2d(x, mean, var, momentum=1.0)
    assert mean.tolist() == [2.0] and var.tolist() == [2.0]
    torch_mean, torch_var = torch.zeros(1), torch.ones(1)
    F.batch_norm(x, torch_mean, torch_var, training=True, momentum=1.0)
    assert torch.equal(mean, torch_mean) and torch.equal(var, torch_var)


def test_gradients_equal_torchs():
    torch.manual_seed(1)
    x = torch.randn(4, 3, 5, 5, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(3, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(3, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(4, 3, 5, 5, dtype=torch.float64)
    ours = torch.autograd.grad((ops.batch_norm2d(x, None, None, weight, bias) * upstream).sum(), (x, weight, bias))
    theirs = torch.autograd.grad((F.batch_norm(x, None, None, weight, bias, True) * upstream).sum(), (x, weight, bias))
    for a, b in zip(ours, theirs, strict=True):
        assert torch.allclose(a, b, atol=1e-10)


def test_a_batch_of_one_in_training_mode_is_refused_like_torch():
    x = torch.randn(1, 3, 1, 1)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        F.batch_norm(x, None, None, training=True)
    with pytest.raises(ValueError, match=r"N\*H\*W = 1 per channel.*training=False"):
        ops.batch_norm2d(x)
    one_image = torch.randn(1, 3, 4, 4)  # one image still has 16 values per channel: allowed, as in torch
    assert torch.allclose(ops.batch_norm2d(one_image), F.batch_norm(one_image, None, None, training=True), **TOL)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        (dict(x=torch.randn(3, 4, 4)), ValueError, r"must be 4-D, got a 3-D tensor of shape \(3, 4, 4\)"),
        (
            dict(x=torch.randn(2, 3, 4, 4), running_mean=torch.zeros(4), running_var=torch.ones(4)),
            ValueError,
            r"one value per channel: shape \(3,\).*got shape \(4,\)",
        ),
        (dict(x=torch.randn(2, 3, 4, 4), weight=torch.ones(3, 1)), ValueError, r"weight must hold one value"),
        (dict(x=torch.randn(2, 3, 4, 4), running_mean=torch.zeros(3)), ValueError, "both running_mean and running_var"),
        (
            dict(x=torch.randn(2, 3, 4, 4), training=False),
            ValueError,
            r"eval mode \(training=False\) normalises with the running statistics, but running_mean and running_var "
            r"are None; pass them \(a BatchNorm2d's buffers\), or use training=True for the batch's own statistics",
        ),
        (dict(x=torch.randn(2, 3, 4, 4), momentum=1.5), ValueError, "momentum must be between 0 and 1.*1.5"),
        (dict(x=torch.randn(2, 3, 4, 4), momentum=None), TypeError, "momentum must be a number"),
        (dict(x=torch.randn(2, 3, 4, 4), eps=-1e-5), ValueError, "eps must be >= 0"),
        (dict(x=torch.randn(2, 3, 4, 4), training="yes"), TypeError, "training must be True or False"),
        (dict(x="pixels"), TypeError, "x .* must be a tensor"),
    ],
)
def test_bad_input_teaches(kwargs, error, words):
    with pytest.raises(error, match=words):
        ops.batch_norm2d(**kwargs)
