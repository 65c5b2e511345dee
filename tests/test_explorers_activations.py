"""Lesson 06's activation explorer: its picture against an nn.Sequential of torch's own layers, and every control
combination driven headless (the existing artists updated in place, nothing raised)."""

import itertools
import math

import numpy as np
import pytest
import torch
from explorer_checks import artists, watch_drawing
from torch import nn

from cnn_lessons import explorers
from cnn_lessons.explorers import activations
from cnn_lessons.explorers.activations import (
    INITIALISATIONS,
    NONLINEARITIES,
    STACK_DEPTH,
    ActivationExplorer,
    activation_picture,
    stack_batch,
    stack_weights,
)

TORCH_NONLINEARITIES = {"ReLU": nn.ReLU, "tanh": nn.Tanh, "GELU": nn.GELU}


def torch_stack(init, depth, batch_norm, nonlinearity):
    """The same stack from torch's modules: circular-padded Conv2d (no bias), BatchNorm2d (no affine), nonlinearity."""
    layers = []
    for weight in stack_weights(init)[:depth]:
        conv = nn.Conv2d(16, 16, 3, padding=1, padding_mode="circular", bias=False)
        with torch.no_grad():
            conv.weight.copy_(weight)
        layers.append(conv)
        if batch_norm:
            layers.append(nn.BatchNorm2d(16, affine=False, track_running_stats=False))
        layers.append(TORCH_NONLINEARITIES[nonlinearity]())
    return nn.Sequential(*layers)


def torch_statistics(init, depth, batch_norm, nonlinearity):
    """Each nonlinearity's output std and the std of its gradient, by forward hooks and retain_grad."""
    model = torch_stack(init, depth, batch_norm, nonlinearity)
    x, upstream = stack_batch()
    outputs = []

    def keep(module, args, output):
        output.retain_grad()
        outputs.append(output)

    for module in model:
        if isinstance(module, tuple(TORCH_NONLINEARITIES.values())):
            module.register_forward_hook(keep)
    top = model(x.requires_grad_(True))
    top.backward(upstream[depth - 1])
    return [o.detach().std().item() for o in outputs], [o.grad.std().item() for o in outputs]


@pytest.mark.parametrize(
    ("init", "batch_norm", "nonlinearity", "depth"),
    [
        ("He (2/fan_in)", False, "ReLU", 20),
        ("torch default", False, "ReLU", 7),
        ("too small (std 0.01)", False, "tanh", 12),
        ("too large (8/fan_in)", False, "GELU", 20),
        ("torch default", True, "ReLU", 20),
        ("Glorot (1/fan_in)", True, "tanh", 3),
        ("He (2/fan_in)", False, "GELU", 1),
    ],
)
def test_the_picture_equals_torchs_modules(init, batch_norm, nonlinearity, depth):
    picture = activation_picture(depth, init, batch_norm, nonlinearity)
    stds, grads = torch_statistics(init, depth, batch_norm, nonlinearity)
    assert len(picture.activation_std) == len(picture.gradient_std) == len(picture.histograms) == depth
    assert (picture.depth, picture.init, picture.batch_norm, picture.nonlinearity) == (
        depth,
        init,
        batch_norm,
        nonlinearity,
    )
    # relative: the stds span 1e-23 to 1e5; float32 layers agree to a few units in the last place each
    assert np.allclose(picture.activation_std, stds, rtol=1e-3, atol=0)
    assert np.allclose(picture.gradient_std, grads, rtol=1e-3, atol=0)


def test_the_weights_have_the_variance_each_initialisation_states():
    for name, (_, variance, formula) in INITIALISATIONS.items():
        weights = stack_weights(name)
        expected = variance(144)
        assert abs(weights.var().item() - expected) < 0.02 * expected, name  # 41,472 draws: within 2%
        picture = activation_picture(1, name, False, "ReLU")
        assert picture.weight_variance == expected and picture.variance_formula == formula and picture.fan_in == 144
    # torch default is what nn.Conv2d does: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    torch.manual_seed(0)
    conv = nn.Conv2d(16, 16, 3)
    default = stack_weights("torch default")
    assert math.isclose(default.abs().max().item(), 1 / 12, rel_tol=1e-3)
    assert math.isclose(conv.weight.abs().max().item(), 1 / 12, rel_tol=1e-2)
    assert math.isclose(INITIALISATIONS["torch default"][1](144), conv.weight.var().item(), rel_tol=0.05)


def test_the_scale_behaves_as_the_lesson_says():
    """Without batch norm the initialisation decides; with it, every initialisation gives the same activations."""
    small = activation_picture(20, "torch default", False, "ReLU")
    he = activation_picture(20, "He (2/fan_in)", False, "ReLU")
    large = activation_picture(20, "too large (8/fan_in)", False, "ReLU")
    assert small.activation_std[-1] < 1e-6 < 0.05 < he.activation_std[-1] < 2 < 1e4 < large.activation_std[-1]
    normalised = {name: activation_picture(20, name, True, "ReLU").activation_std for name in INITIALISATIONS}
    for name, stds in normalised.items():
        if INITIALISATIONS[name][0] == "normal":  # the same draws, scaled: batch norm removes the scale
            # (to 1%: for std 0.01 the pre-norm variance is ~0.005, and eps = 1e-5 beside it shows)
            assert np.allclose(stds, normalised["He (2/fan_in)"], rtol=1e-2)
        assert all(0.55 < s < 0.62 for s in stds)  # ReLU of a standard normal: std sqrt(1/2 - 1/(2 pi)) = 0.584


def summary(depth, batch_norm, activation_std, gradient_std):
    """activation_summary of a picture made up for it: He's variance, the ReLU, the given stds."""
    picture = activations.ActivationPicture(
        depth=depth,
        init="He (2/fan_in)",
        batch_norm=batch_norm,
        nonlinearity="ReLU",
        fan_in=144,
        weight_variance=2 / 144,
        variance_formula="2/fan_in",
        measured_variance=0.0141,
        activation_std=activation_std,
        gradient_std=gradient_std,
        histograms=(),
    )
    return activations.activation_summary(picture)


def test_the_summary_states_the_variance_the_scales_and_the_factor_per_layer():
    head = "<b>He (2/fan_in)</b>: Var(w) = 2/fan_in = 1.39e-02 (fan_in = 144; measured 1.41e-02). "
    # three layers from 0.5 to 2: a factor of sqrt(2 / 0.5) = 2 per layer
    assert summary(3, True, (0.5, 1.0, 2.0), (4e-9, 1.0, 1500.0)) == head + (
        "Conv, batch norm, ReLU, \u00d73: activation std 0.5 after layer 1, 2 after layer 3 (\u00d72.00 per layer); "
        "gradient std 4.0e-9 at layer 1, 1.5e3 at the top."
    )
    assert summary(2, False, (2.0, 0.5), (1.0, 1.0)).endswith(
        "Conv, ReLU, \u00d72: activation std 2 after layer 1, 0.5 after layer 2 (\u00d70.25 per layer); "
        "gradient std 1 at layer 1, 1 at the top."
    )
    assert summary(1, False, (0.8,), (0.3,)).endswith(
        "Conv, ReLU, \u00d71: activation std 0.8 after layer 1, 0.8 after layer 1."
    )
    # a stack whose activations die out (all zero): no factor to take a root of
    assert "(\u00d70.00 per layer)" in summary(2, False, (0.0, 0.0), (0.0, 0.0))
    assert "(\u00d70.00 per layer)" in summary(3, False, (0.5, 0.1, 0.0), (1.0, 1.0, 1.0))
    assert "(\u00d70.00 per layer)" in summary(2, False, (0.0, 1.0), (1.0, 1.0))


def test_the_summarys_factor_per_layer_is_a_root_not_a_ratio():
    # four layers doubling at each of the 3 steps: 8 ** (1/3) = 2 (a ratio would say 8, a root over 4 layers 1.68)
    assert "after layer 4 (\u00d72.00 per layer)" in summary(4, False, (1.0, 2.0, 4.0, 8.0), (1.0,) * 4)


def test_histograms_are_shares_of_every_value():
    picture = activation_picture(5, "He (2/fan_in)", False, "ReLU")
    edges = torch.tensor(activations.HISTOGRAM_EDGES)
    model = torch_stack("He (2/fan_in)", 5, False, "ReLU")
    with torch.no_grad():
        top = model(stack_batch()[0]).flatten().clamp(edges[0], edges[-1])
    expected = torch.histogram(top, bins=edges).hist / top.numel()
    assert np.allclose(picture.histograms[-1], expected.numpy(), atol=1e-6)
    for row in picture.histograms:
        assert math.isclose(sum(row), 1.0, rel_tol=1e-5)
    zero_bin = len(edges) // 2  # [0, 0.2): every ReLU zero lands here
    assert picture.histograms[0][zero_bin] > 0.45


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match=f"depth must be between 1 and {STACK_DEPTH}, got 21"):
        activation_picture(21, "He (2/fan_in)", False, "ReLU")
    with pytest.raises(ValueError, match="init must be one of"):
        activation_picture(3, "Kaiming", False, "ReLU")
    with pytest.raises(ValueError, match="nonlinearity must be one of"):
        ActivationExplorer(nonlinearity="sigmoid")


@pytest.fixture(scope="module")
def explorer():
    explorer = ActivationExplorer()
    yield explorer
    explorer.close()


def test_every_combination_updates_in_place(explorer, monkeypatch):
    made, redraws = watch_drawing(explorer, monkeypatch)
    fig, before = explorer.fig, artists(explorer.fig)
    changes = 0
    for init, batch_norm, nonlinearity in itertools.product(INITIALISATIONS, (False, True), NONLINEARITIES):
        for control, value in (
            (explorer.init, init),
            (explorer.batch_norm, batch_norm),
            (explorer.nonlinearity, nonlinearity),
        ):
            if control.value != value:
                control.value = value
                changes += 1
        for depth in (1, 2, 11, STACK_DEPTH):
            if explorer.depth.value != depth:
                explorer.depth.value = depth
                changes += 1
            picture = activation_picture(depth, init, batch_norm, nonlinearity)
            xs, ys = explorer.view.activation_line.get_data()
            assert list(xs) == list(range(1, depth + 1))
            expected = np.clip(np.log10(picture.activation_std), *activations.LOG_RANGE)
            assert np.allclose(ys, expected)
            shown = np.ma.filled(explorer.view.image.get_array().astype(float), np.nan)  # NaN rows are masked
            assert np.allclose(shown[:depth], np.sqrt(picture.histograms)) and np.isnan(shown[depth:]).all()
            assert f"\u00d7{depth}:" in explorer.header.value and init in explorer.header.value
    assert len(redraws) == changes  # one redraw per change
    assert made == []  # no figure made by a callback
    assert explorer.fig is fig and artists(fig) == before


def test_static_figure_and_display(explorer):
    fig = explorer.static_figure()
    assert fig is not explorer.fig and len(fig.axes) == 2
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/plain"] == repr(explorer)
    assert ActivationExplorer in explorers.registered()
