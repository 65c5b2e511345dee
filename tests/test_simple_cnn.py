"""Tests for cnn_lessons.models.SimpleCNN: computed shapes against torch, parameter counts, and its errors."""

import re

import pytest
import torch
import torchinfo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from cnn_lessons.arithmetic import conv_parameter_count, receptive_field
from cnn_lessons.models import SimpleCNN, count_parameters

REFERENCE_PARAMS = 34_522  # lesson plan 03: 224 + 1168 + 32800 + 330


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: one torch thread is fastest, and is not slowed down by other programs on the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def traced_shapes(model: SimpleCNN, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    """Output shape (without the batch axis) of every named leaf layer, from a real forward pass."""
    shapes, handles = {}, []
    for name, module in model.named_modules():
        if name and not list(module.children()):

            def hook(module, args, output, name=name):
                shapes[name] = tuple(output.shape[1:])

            handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return shapes


def plain_torch_stack(config: dict) -> nn.Sequential:
    """The conv blocks of a configuration built directly with torch, without SimpleCNN's checks."""
    layers, channels = [], config["in_channels"]
    pools = config["pool"]
    pools = pools if isinstance(pools, (tuple, list)) else [pools] * len(config["conv_channels"])
    for out_channels, window in zip(config["conv_channels"], pools, strict=True):
        layers += [nn.Conv2d(channels, out_channels, config["kernel_size"], padding=config["padding"]), nn.ReLU()]
        if window not in (None, 1):
            layers.append(nn.MaxPool2d(window))
        channels = out_channels
    return nn.Sequential(*layers)


def size_pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


# ---- the reference configuration -------------------------------------------------------------------------


def test_reference_configuration_has_34522_parameters():
    model = SimpleCNN(
        in_channels=3,
        conv_channels=(8, 16),
        kernel_size=3,
        padding="same",
        pool=2,
        hidden=(32,),
        num_classes=10,
        input_size=32,
        activation=nn.ReLU,
    )
    by_formula = (
        conv_parameter_count(3, 8, 3)  # 224
        + conv_parameter_count(8, 16, 3)  # 1168
        + (16 * 8 * 8 + 1) * 32  # 32800: the flatten size 16 x 8 x 8 = 1024 into 32
        + (32 + 1) * 10  # 330
    )
    assert by_formula == REFERENCE_PARAMS == 224 + 1168 + 32800 + 330
    assert count_parameters(model) == REFERENCE_PARAMS
    assert torchinfo.summary(model, input_size=(1, 3, 32, 32), verbose=0).total_params == REFERENCE_PARAMS
    assert model.flatten_size == 1024
    assert model.shape_table().splitlines()[-1].split()[-1] == "34,522"
    assert SimpleCNN().shape_trace() == model.shape_trace()  # the defaults are the reference configuration


def test_reference_shape_trace():
    assert SimpleCNN().shape_trace() == [
        ("input", (3, 32, 32)),
        ("block1.conv", (8, 32, 32)),
        ("block1.act", (8, 32, 32)),
        ("block1.pool", (8, 16, 16)),
        ("block2.conv", (16, 16, 16)),
        ("block2.act", (16, 16, 16)),
        ("block2.pool", (16, 8, 8)),
        ("flatten", (1024,)),
        ("classifier.fc1", (32,)),
        ("classifier.act1", (32,)),
        ("classifier.out", (10,)),
    ]


def test_shape_table_parameters_match_torch_per_layer():
    model = SimpleCNN(conv_channels=(4, 6, 8), kernel_size=(3, 5), hidden=(12, 7), input_size=(24, 20))
    table = {line.split()[0]: line.split()[-1] for line in model.shape_table().splitlines()[2:]}
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            assert int(table[name].replace(",", "")) == count_parameters(module), name
    assert int(table["total"].replace(",", "")) == count_parameters(model)


def test_even_kernel_same_padding_on_30x30():
    model = SimpleCNN(kernel_size=4, padding="same", input_size=30)
    trace = dict(model.shape_trace())
    assert trace["block1.conv"] == (8, 30, 30)  # torch pads 1 on the left/top and 2 on the right/bottom
    assert trace["block1.pool"] == (8, 15, 15)
    assert trace["block2.pool"] == (16, 7, 7)
    assert model.flatten_size == 16 * 7 * 7
    x = torch.randn(2, 3, 30, 30)
    assert model(x).shape == (2, 10)
    assert traced_shapes(model, x) == {k: v for k, v in model.shape_trace() if k != "input"}


def test_receptive_field_reads_simple_cnn():
    # conv 3 -> pool 2 -> conv 3 -> pool 2, traced through torch.fx
    assert receptive_field(SimpleCNN()) == receptive_field([(3, 1), (2, 2), (3, 1), (2, 2)]) == 10


# ---- many configurations against torch --------------------------------------------------------------------

sizes = st.one_of(st.integers(1, 20), st.tuples(st.integers(1, 20), st.integers(1, 20)))
kernels = st.one_of(st.integers(1, 5), st.tuples(st.integers(1, 5), st.integers(1, 5)))
paddings = st.one_of(
    st.sampled_from(["same", "valid"]), st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2))
)


@st.composite
def configurations(draw):
    conv_channels = tuple(draw(st.lists(st.integers(1, 5), max_size=4)))
    pool = draw(
        st.one_of(
            st.sampled_from([None, 1, 2, 3]),
            st.lists(st.sampled_from([None, 1, 2, 3]), min_size=len(conv_channels), max_size=len(conv_channels)).map(
                tuple
            ),
        )
    )
    return dict(
        in_channels=draw(st.integers(1, 3)),
        conv_channels=conv_channels,
        kernel_size=draw(kernels),
        padding=draw(paddings),
        pool=pool,
        hidden=tuple(draw(st.lists(st.integers(1, 8), max_size=2))),
        num_classes=draw(st.integers(1, 5)),
        input_size=draw(sizes),
        global_pool=draw(st.sampled_from([None, None, "avg", "max"])),
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configurations())
def test_shape_trace_matches_a_forward_pass(config):
    height, width = size_pair(config["input_size"])
    x = torch.randn(2, config["in_channels"], height, width)
    try:
        model = SimpleCNN(**config)
    except ValueError as error:
        message = str(error)
        assert re.match(r"block \d+'s ", message), message
        # torch fails too on the same stack of layers ...
        with pytest.raises(RuntimeError):
            plain_torch_stack(config)(x)
        # ... and the input size the message suggests works
        suggested = re.search(r"an input_size of at least (\d+)x(\d+)", message)
        fixed = SimpleCNN(**{**config, "input_size": (int(suggested[1]), int(suggested[2]))})
        assert fixed(torch.randn(1, config["in_channels"], *fixed.input_size)).shape == (1, config["num_classes"])
        return
    trace = model.shape_trace()
    assert trace[0] == ("input", (config["in_channels"], height, width))
    assert traced_shapes(model, x) == dict(trace[1:])
    assert model(x).shape == (2, config["num_classes"])
    assert model.flatten_size == dict(trace)["flatten"][0]
    assert model.shape_table().splitlines()[-1].split()[-1] == f"{count_parameters(model):,}"  # by formula
    # the plain torch stack gives the same feature map as the conv part of the model
    features = plain_torch_stack(config)(x)
    last_map = [shape for name, shape in trace if name.startswith("block")][-1:] or [trace[0][1]]
    assert tuple(features.shape[1:]) == last_map[0]


# ---- impossible configurations and bad arguments ------------------------------------------------------------


def test_a_vanishing_feature_map_names_the_layer_and_what_would_work():
    with pytest.raises(ValueError) as info:
        SimpleCNN(conv_channels=(8, 16, 32, 64), input_size=8)
    message = str(info.value)
    assert message.startswith("block 4's 2x2 max-pool gets a 1x1 feature map (from the 8x8 input)")
    assert "at most 3 conv blocks" in message
    assert "pool=(2, 2, 2, None)" in message
    assert "an input_size of at least 16x16" in message
    # each suggestion works
    assert SimpleCNN(conv_channels=(8, 16, 32), input_size=8).flatten_size == 32
    assert SimpleCNN(conv_channels=(8, 16, 32, 64), input_size=8, pool=(2, 2, 2, None)).flatten_size == 64
    assert SimpleCNN(conv_channels=(8, 16, 32, 64), input_size=16).flatten_size == 64
    with pytest.raises(ValueError, match="input_size of at least 16x16"):
        SimpleCNN(conv_channels=(8, 16, 32, 64), input_size=15)


def test_a_kernel_larger_than_the_map_names_the_convolution():
    with pytest.raises(ValueError, match=r"block 2's 9x9 convolution \(padding 0\) gets a 1x1 feature map") as info:
        SimpleCNN(conv_channels=(8, 16), kernel_size=9, padding=0, input_size=10)
    assert "padding='same'" in str(info.value)
    assert "at least 28x28" in str(info.value)
    with pytest.raises(ValueError, match=r"block 1's 5x5 convolution \(padding 'valid'\) gets the 4x9 input"):
        SimpleCNN(kernel_size=5, padding="valid", input_size=(4, 9))


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        (dict(conv_channels=8), TypeError, r"conv_channels=\(8,\)"),
        (dict(conv_channels="816"), TypeError, "sequence of positive whole numbers"),
        (dict(conv_channels=(8, 0)), ValueError, r"conv_channels\[1\] must be positive"),
        (dict(conv_channels=(8, 2.5)), TypeError, r"conv_channels\[1\] must be a whole number"),
        (dict(hidden=32), TypeError, r"hidden=\(32,\)"),
        (dict(hidden=(32, -1)), ValueError, r"hidden\[1\]"),
        (dict(in_channels=0), ValueError, "in_channels"),
        (dict(num_classes=0), ValueError, "num_classes"),
        (dict(kernel_size=0), ValueError, "kernel_size"),
        (dict(kernel_size=(3, 3, 3)), ValueError, r"\(h, w\) pair"),
        (dict(padding="full"), ValueError, "nn.Conv2d has no such mode"),
        (dict(padding=-1), ValueError, "padding"),
        (dict(pool=(2,)), ValueError, "1 entry but there are 2 conv blocks"),
        (dict(pool="2"), TypeError, "pool must be"),
        (dict(pool=0), ValueError, "pool"),
        (dict(input_size=0), ValueError, "input_size"),
        (dict(input_size=(32,)), ValueError, r"\(h, w\) pair"),
        (dict(activation=torch.relu), TypeError, "pass nn.ReLU"),
        (dict(activation="relu"), TypeError, "activation"),
        (dict(global_pool="mean"), ValueError, "'avg' or 'max'"),
    ],
)
def test_bad_arguments_are_explained(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        SimpleCNN(**kwargs)


def test_an_input_of_the_wrong_shape_is_explained():
    model = SimpleCNN()
    with pytest.raises(ValueError, match=r"built for batches of shape \(N, 3, 32, 32\).*got \(2, 3, 28, 28\)"):
        model(torch.randn(2, 3, 28, 28))
    with pytest.raises(ValueError, match="got \\(3, 32, 32\\)"):
        model(torch.randn(3, 32, 32))


# ---- options -------------------------------------------------------------------------------------------------


def test_activation_class_factory_or_instance():
    tanh = SimpleCNN(activation=nn.Tanh)
    assert [type(m) for n, m in tanh.named_modules() if n.endswith(("act", "act1"))] == [nn.Tanh] * 3
    leaky = SimpleCNN(activation=nn.LeakyReLU(0.1))
    activations = [m for n, m in leaky.named_modules() if isinstance(m, nn.LeakyReLU)]
    assert len(activations) == 3 and len({id(m) for m in activations}) == 3  # one module per layer
    assert all(m.negative_slope == 0.1 for m in activations)


def test_no_pooling_and_per_block_pooling():
    assert dict(SimpleCNN(pool=None).shape_trace())["flatten"] == (16 * 32 * 32,)
    assert dict(SimpleCNN(pool=1).shape_trace())["flatten"] == (16 * 32 * 32,)
    model = SimpleCNN(in_channels=1, input_size=8, conv_channels=(32, 64), pool=(2, None), hidden=(128,))
    assert "block2.pool" not in dict(model.shape_trace()) and model.flatten_size == 64 * 4 * 4
    assert model(torch.randn(1, 1, 8, 8)).shape == (1, 10)


def test_global_pooling_and_mlp_only():
    model = SimpleCNN(global_pool="max")
    assert model.flatten_size == 16 and isinstance(model.global_pool, nn.AdaptiveMaxPool2d)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    mlp = SimpleCNN(in_channels=1, conv_channels=(), input_size=8, hidden=(32,))
    assert mlp.flatten_size == 64 and not any(isinstance(m, nn.Conv2d) for m in mlp.modules())
    assert mlp(torch.randn(2, 1, 8, 8)).shape == (2, 10)
