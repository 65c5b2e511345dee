"""Tests for cnn_lessons.models: exact parameter counts, output shapes, heads and argument checks.

Parameter counts of whole models are built on the "meta" device (shapes only, no memory, no init), so
they are cheap; one real forward pass per model checks the shapes.
"""

import pytest
import torch
from torch import nn

from cnn_lessons import models
from cnn_lessons.arithmetic import multiply_adds, receptive_field
from cnn_lessons.models import (
    BasicBlock,
    Bottleneck,
    ConvBNAct,
    ConvNeXtBlock,
    DenseBlock,
    DenseLayer,
    DepthwiseSeparableConv,
    Inception,
    InvertedResidual,
    LayerNorm2d,
    MBConv,
    SeparableConv2d,
    SqueezeExcitation,
    Transition,
    XceptionBlock,
    count_parameters,
    model_input_size,
    stage_parameter_counts,
)

# Published parameter counts of torchvision's reference implementations (num_classes=1000; GoogLeNet with
# aux_logits=False); Xception, which torchvision lacks: Keras's keras.applications.Xception, its trainable
# parameters (22,910,480 in all, the other 54,528 being batch-norm statistics; see test_xception_parameters_by_hand).
# LeNet-5 as documented in models.lenet5 (full C3, C5 a 5x5 conv 16->120), by formula.
LENET5_PARAMS = 6 * (25 + 1) + 16 * (6 * 25 + 1) + 120 * (16 * 25 + 1) + 84 * (120 + 1) + 10 * (84 + 1)
REFERENCE_PARAMS = {
    "lenet5": LENET5_PARAMS,
    "alexnet": 61_100_840,
    "vgg16": 138_357_544,
    "googlenet": 6_624_904,
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "densenet121": 7_978_856,
    "mobilenet_v2": 3_504_872,
    "efficientnet_b0": 5_288_548,
    "convnext_tiny": 28_589_128,
    "xception": 22_855_952,
}
# Inputs of the last linear layer, so that a head for k classes has k * (features + 1) parameters.
HEAD_FEATURES = {
    "lenet5": 84,
    "alexnet": 4096,
    "vgg16": 4096,
    "googlenet": 1024,
    "resnet18": 512,
    "resnet50": 2048,
    "densenet121": 1024,
    "mobilenet_v2": 1280,
    "efficientnet_b0": 1280,
    "convnext_tiny": 768,
    "xception": 2048,
}
NAMES = list(REFERENCE_PARAMS)


def build_meta(name, **kwargs):
    with torch.device("meta"):
        return models.MODELS[name](**kwargs)


def last_linear(model):
    return [m for m in model.modules() if isinstance(m, nn.Linear)][-1]


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def run(module, x):
    module.eval()
    with torch.no_grad():
        return module(x)


def test_lenet5_formula_is_61706():
    assert LENET5_PARAMS == 61_706


def test_every_model_is_listed():
    assert set(models.MODELS) == set(REFERENCE_PARAMS)
    for name in models.MODELS:
        assert name in models.__all__


@pytest.mark.parametrize("name", NAMES)
def test_parameter_count_matches_reference(name):
    model = build_meta(name)
    assert count_parameters(model) == REFERENCE_PARAMS[name]
    assert count_parameters(model, trainable_only=True) == REFERENCE_PARAMS[name]


@pytest.mark.parametrize("name", NAMES)
def test_forward_gives_one_logit_per_class(name):
    torch.manual_seed(0)
    model = models.MODELS[name]()
    x = torch.randn(1, *model_input_size(name))  # 1x32x32 for LeNet-5, 3x299x299 for Xception, else 3x224x224
    out = run(model, x)
    expected_classes = 10 if name == "lenet5" else 1000
    assert out.shape == (1, expected_classes)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", NAMES)
def test_num_classes_changes_only_the_head(name):
    model = build_meta(name, num_classes=7)
    head = last_linear(model)
    assert head.out_features == 7
    assert head.in_features == HEAD_FEATURES[name]
    default_classes = 10 if name == "lenet5" else 1000
    f = HEAD_FEATURES[name]
    assert count_parameters(model) == REFERENCE_PARAMS[name] - default_classes * (f + 1) + 7 * (f + 1)


def test_resnet18_with_10_classes():
    model = build_meta("resnet18", num_classes=10)
    assert count_parameters(model) == 11_689_512 - 513_000 + 5_130
    out = run(models.resnet18(num_classes=10), torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 10)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (0, ValueError),
        (-5, ValueError),
        (2.5, TypeError),
        ("10", TypeError),
        (True, TypeError),
        (None, TypeError),
    ],
)
def test_bad_num_classes_is_explained(name, bad, error):
    with pytest.raises(error, match="num_classes"):
        models.MODELS[name](num_classes=bad)


def test_stage_parameter_counts_resnet18():
    counts = stage_parameter_counts(build_meta("resnet18"))
    assert list(counts) == ["stem", "layer1", "layer2", "layer3", "layer4", "avgpool", "classifier"]
    assert counts["stem"] == 64 * 3 * 7 * 7 + 2 * 64
    assert counts["layer1"] == 2 * (2 * 64 * 64 * 9 + 2 * 2 * 64)
    assert counts["avgpool"] == 0
    assert counts["classifier"] == 512 * 1000 + 1000
    assert sum(counts.values()) == 11_689_512


@pytest.mark.parametrize("name", ["lenet5", "vgg16", "densenet121", "convnext_tiny"])
def test_stage_parameter_counts_add_up(name):
    model = build_meta(name)
    counts = stage_parameter_counts(model)
    assert list(counts) == [child for child, _ in model.named_children()]
    assert sum(counts.values()) == REFERENCE_PARAMS[name]


def test_stage_parameter_counts_own_parameters_and_bad_input():
    model = nn.Sequential(nn.Linear(3, 2))
    model.register_parameter("extra", nn.Parameter(torch.zeros(5)))
    assert stage_parameter_counts(model) == {"0": 8, "(own)": 5}
    with pytest.raises(TypeError, match="nn.Module"):
        stage_parameter_counts([1, 2])


def test_stage_names_show_the_paper_structure():
    assert list(stage_parameter_counts(build_meta("lenet5"))) == [
        "c1",
        "s2",
        "c3",
        "s4",
        "c5",
        "f6",
        "output",
    ]
    vgg = stage_parameter_counts(build_meta("vgg16"))
    assert list(vgg)[:5] == [f"block{i}" for i in range(1, 6)]
    convnext = stage_parameter_counts(build_meta("convnext_tiny"))
    assert [len(getattr(build_meta("convnext_tiny"), f"stage{i}")) for i in range(1, 5)] == [3, 3, 9, 3]
    assert "downsample2" in convnext and "downsample1" not in convnext


def test_models_have_a_receptive_field():
    # C1 5x5, S2 2x2/2, C3 5x5, S4 2x2/2, C5 5x5: r = 1 + 4 + 1 + 4*2 + 1*2 + 4*4 = 32, the whole image.
    assert receptive_field(models.lenet5()) == 32
    # ResNet-18 by hand: stem 7x7/2 -> 7 (jump 2); max-pool 3x3/2 -> 11 (jump 4); layer1, four 3x3 -> 43;
    # layer2: 3x3/2 -> 51 (jump 8), three 3x3 -> 99; layer3: -> 115 (jump 16), -> 211; layer4: -> 243, -> 435.
    # The 1x1 stride-2 shortcuts add nothing: the widest path goes through the 3x3 convolutions.
    assert receptive_field(build_meta("resnet18")) == 435


# ----------------------------------------------------------------------------------------------------
# Xception (Chollet, CVPR 2017, arXiv:1610.02357): its numbers from the paper's Figure 5, by hand
# ----------------------------------------------------------------------------------------------------

# (widths, stride) of each block of separable convs, written out again here from Figure 5 (not read from the
# package): entry flow 64 -> 128, 128 -> 256, 256 -> 728, each ending in a 3x3/2 max pool; middle flow 8 x
# three 728 -> 728; exit flow 728 -> 728 -> 1024 with a max pool. Feature map sides on a 299x299 input: the
# unpadded 3x3/2 conv gives (299 - 3) // 2 + 1 = 149, the unpadded 3x3 conv 147, then each stride-2 block
# (pool 3x3/2 padding 1, and its 1x1/2 shortcut) (n - 1) // 2 + 1: 74, 37, 19, and 10 after the exit block.
XCEPTION_BLOCKS = [((64, 128, 128), 2), ((128, 256, 256), 2), ((256, 728, 728), 2)]
XCEPTION_BLOCKS += [((728, 728, 728, 728), 1)] * 8 + [((728, 728, 1024), 2)]
XCEPTION_SIDES = [147, 74, 37, *[19] * 9]  # the side each block's separable convs work at


def separable(a, b):
    return 9 * a + a * b  # depthwise 3x3 (one filter per channel) + pointwise 1x1, no biases


def xception_block_params(widths, stride):
    steps = sum(separable(a, b) + bn(b) for a, b in zip(widths[:-1], widths[1:], strict=True))
    shortcut = widths[0] * widths[-1] + bn(widths[-1]) if stride == 2 else 0  # 1x1/2 conv + BN, or identity
    return steps + shortcut


def test_xception_parameters_by_hand():
    stem = 3 * 32 * 9 + bn(32) + 32 * 64 * 9 + bn(64)  # two ordinary 3x3 convs, no bias, each with BN
    blocks = sum(xception_block_params(widths, stride) for widths, stride in XCEPTION_BLOCKS)
    exit_convs = separable(1024, 1536) + bn(1536) + separable(1536, 2048) + bn(2048)
    classifier = 2048 * 1000 + 1000
    total = stem + blocks + exit_convs + classifier
    assert total == 22_855_952 == count_parameters(build_meta("xception"))
    # Keras counts 22,910,480 parameters: the rest are each batch norm's running mean and variance (one
    # number each per channel), not trained; PyTorch keeps them as buffers.
    bn_channels = 32 + 64 + sum(sum(w[1:]) + (w[-1] if s == 2 else 0) for w, s in XCEPTION_BLOCKS) + 1536 + 2048
    statistics = 2 * bn_channels
    model = build_meta("xception")
    buffers = sum(b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var")))
    assert statistics == buffers == 54_528
    assert total + statistics == 22_910_480
    counts = stage_parameter_counts(model)
    stages = ["stem", "entry1", "entry2", "entry3", "middle", "exit", "exit_convs", "avgpool", "classifier"]
    assert list(counts) == stages
    assert counts["stem"] == stem and counts["exit_convs"] == exit_convs and counts["classifier"] == classifier
    assert counts["middle"] == 8 * 3 * (separable(728, 728) + bn(728))  # 12,911,808: 56% of the model
    assert len(model.middle) == 8 and model_input_size("xception") == (3, 299, 299)


def test_xception_forward_on_299():
    torch.manual_seed(0)
    model = models.xception()
    sides = []
    hooks = [child.register_forward_hook(lambda m, i, o: sides.append(o.shape[-1])) for child in model[:-2]]
    out = run(model, torch.randn(1, 3, 299, 299))
    for hook in hooks:
        hook.remove()
    assert out.shape == (1, 1000) and torch.isfinite(out).all()
    assert sides == [147, 74, 37, 19, 19, 10, 10]  # stem, entry1..3, middle, exit, exit_convs
    assert run(models.xception(num_classes=5), torch.randn(2, 3, 71, 71)).shape == (2, 5)  # smaller inputs work


def test_xception_multiply_adds_by_hand():
    """Each conv does (in/groups * k * k) multiply-adds per output element; summed layer by layer."""
    stem = 149 * 149 * 32 * (3 * 9) + 147 * 147 * 64 * (32 * 9)
    blocks = 0
    for (widths, stride), side in zip(XCEPTION_BLOCKS, XCEPTION_SIDES, strict=True):
        blocks += sum(side * side * separable(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True))
        if stride == 2:  # the 1x1/2 shortcut, on the halved map
            blocks += ((side - 1) // 2 + 1) ** 2 * widths[0] * widths[-1]
    exit_convs = 10 * 10 * (separable(1024, 1536) + separable(1536, 2048))
    total = stem + blocks + exit_convs + 2048 * 1000
    assert multiply_adds(build_meta("xception"), (3, 299, 299)) == total == 8_357_403_496  # about 8.4 G


def test_xception_receptive_field_by_hand():
    # The widest path: the two stem convs, then every depthwise 3x3 and every 3x3/2 max pool (1x1 convs and the
    # shortcuts add nothing). Entry: 2 x 3x3 + pool, three times; middle: 24 x 3x3; exit: 2 x 3x3 + pool; then
    # the exit convs' 2 x 3x3. r = 3 (jump 2), 7; 11, 15, 19 (jump 4); 27, 35, 43 (8); 59, 75, 91 (16);
    # + 24 * 32 = 859; 891, 923, 955 (32); 1019, 1083. Wider than the 299-pixel image: the outer positions of
    # the 10x10 map see mostly padding, and every position's field reaches past the image.
    layers = [(3, 2), (3, 1)] + [(3, 1), (3, 1), (3, 2)] * 3 + [(3, 1)] * 24 + [(3, 1), (3, 1), (3, 2)]
    layers += [(3, 1), (3, 1)]
    assert receptive_field(layers) == 1083 == receptive_field(build_meta("xception"))


# ----------------------------------------------------------------------------------------------------
# Blocks: output shape and parameter count from the docstring's formula, two configurations each
# ----------------------------------------------------------------------------------------------------


def bn(c):
    return 2 * c  # batch norm: one scale and one shift per channel


@pytest.mark.parametrize(
    ("in_c", "out_c", "stride", "expected"),
    [
        (64, 64, 1, 2 * (64 * 64 * 9) + 2 * bn(64)),
        (64, 128, 2, 64 * 128 * 9 + 128 * 128 * 9 + 2 * bn(128) + 64 * 128 + bn(128)),
    ],
)
def test_basic_block(in_c, out_c, stride, expected):
    block = BasicBlock(in_c, out_c, stride)
    assert n_params(block) == expected
    assert (block.downsample is None) == (stride == 1 and in_c == out_c)
    assert run(block, torch.randn(2, in_c, 8, 8)).shape == (2, out_c, 8 // stride, 8 // stride)


@pytest.mark.parametrize(
    ("in_c", "width", "stride", "expected"),
    [
        (256, 64, 1, 256 * 64 + 9 * 64 * 64 + 64 * 256 + bn(64) + bn(64) + bn(256)),
        (
            256,
            128,
            2,
            256 * 128 + 9 * 128 * 128 + 128 * 512 + bn(128) + bn(128) + bn(512) + 256 * 512 + bn(512),
        ),
    ],
)
def test_bottleneck(in_c, width, stride, expected):
    block = Bottleneck(in_c, width, stride)
    assert n_params(block) == expected
    assert block.out_channels == 4 * width
    assert run(block, torch.randn(1, in_c, 8, 8)).shape == (1, 4 * width, 8 // stride, 8 // stride)


def inception_formula(i, c1, c3r, c3, c5r, c5, pp):
    convs = i * c1 + i * c3r + 9 * c3r * c3 + i * c5r + 3 * 3 * c5r * c5 + i * pp
    return convs + bn(c1) + bn(c3r) + bn(c3) + bn(c5r) + bn(c5) + bn(pp)


@pytest.mark.parametrize(
    "config",
    [(192, 64, 96, 128, 16, 32, 32), (528, 256, 160, 320, 32, 128, 128)],  # inception 3a and 4e
)
def test_inception(config):
    block = Inception(*config)
    assert n_params(block) == inception_formula(*config)
    i, c1, _, c3, _, c5, pp = config
    assert run(block, torch.randn(1, i, 7, 7)).shape == (1, c1 + c3 + c5 + pp, 7, 7)


@pytest.mark.parametrize(("in_c", "growth"), [(64, 32), (96, 12)])
def test_dense_layer(in_c, growth):
    b = 4 * growth
    layer = DenseLayer(in_c, growth, bn_size=4)
    assert n_params(layer) == bn(in_c) + in_c * b + bn(b) + 9 * b * growth
    x = torch.randn(1, in_c, 6, 6)
    out = run(layer, x)
    assert out.shape == (1, in_c + growth, 6, 6)
    assert torch.equal(out[:, :in_c], x)  # earlier features pass through unchanged


@pytest.mark.parametrize(("num_layers", "in_c", "growth"), [(6, 64, 32), (3, 16, 8)])
def test_dense_block(num_layers, in_c, growth):
    block = DenseBlock(num_layers, in_c, growth)
    b = 4 * growth
    expected = sum(bn(c) + c * b + bn(b) + 9 * b * growth for c in (in_c + i * growth for i in range(num_layers)))
    assert n_params(block) == expected
    assert run(block, torch.randn(1, in_c, 5, 5)).shape == (1, in_c + num_layers * growth, 5, 5)


@pytest.mark.parametrize(("in_c", "out_c"), [(256, 128), (1024, 512)])
def test_transition(in_c, out_c):
    block = Transition(in_c, out_c)
    assert n_params(block) == bn(in_c) + in_c * out_c
    assert run(block, torch.randn(1, in_c, 8, 8)).shape == (1, out_c, 4, 4)


@pytest.mark.parametrize(("in_c", "out_c", "stride"), [(32, 64, 1), (64, 128, 2)])
def test_depthwise_separable_conv(in_c, out_c, stride):
    block = DepthwiseSeparableConv(in_c, out_c, stride)
    assert n_params(block) == 9 * in_c + bn(in_c) + in_c * out_c + bn(out_c)
    assert run(block, torch.randn(1, in_c, 8, 8)).shape == (1, out_c, 8 // stride, 8 // stride)
    assert n_params(block) < 9 * in_c * out_c  # cheaper than an ordinary 3x3 conv


@pytest.mark.parametrize(("in_c", "out_c"), [(64, 128), (728, 728)])
def test_separable_conv2d(in_c, out_c):
    block = SeparableConv2d(in_c, out_c)
    assert n_params(block) == 9 * in_c + in_c * out_c  # no BN and no ReLU between the halves, no biases
    assert [type(m) for m in block] == [nn.Conv2d, nn.Conv2d]
    assert block[0].groups == in_c and block[0].kernel_size == (3, 3) and block[1].kernel_size == (1, 1)
    assert run(block, torch.randn(1, in_c, 7, 7)).shape == (1, out_c, 7, 7)


@pytest.mark.parametrize(
    ("widths", "stride", "start_with_relu", "expected"),
    [
        ((64, 128, 128), 2, False, 9 * 64 + 64 * 128 + 9 * 128 + 128 * 128 + 2 * bn(128) + 64 * 128 + bn(128)),
        ((32, 32, 32, 32), 1, True, 3 * (9 * 32 + 32 * 32 + bn(32))),
    ],
)
def test_xception_block(widths, stride, start_with_relu, expected):
    block = XceptionBlock(widths, stride, start_with_relu=start_with_relu)
    assert n_params(block) == expected
    assert (block.shortcut is None) == (stride == 1)
    assert isinstance(block.residual[0], nn.ReLU) == start_with_relu
    assert isinstance(block.residual[-1], nn.MaxPool2d) == (stride == 2)
    x = torch.randn(1, widths[0], 9, 9)
    side = 5 if stride == 2 else 9
    assert run(block, x).shape == (1, widths[-1], side, side)
    with pytest.raises(ValueError, match="stride"):
        XceptionBlock(widths, 3)
    with pytest.raises(ValueError, match="widths"):
        XceptionBlock((8,))


@pytest.mark.parametrize(
    ("in_c", "out_c", "k", "stride", "groups", "act", "expected"),
    [
        (3, 32, 3, 2, 1, nn.ReLU6, 3 * 32 * 9 + bn(32)),
        (16, 16, 5, 1, 16, None, 16 * 25 + bn(16)),
    ],
)
def test_conv_bn_act(in_c, out_c, k, stride, groups, act, expected):
    block = ConvBNAct(in_c, out_c, k, stride, groups, activation=act)
    assert n_params(block) == expected
    assert len(block) == (2 if act is None else 3)
    assert run(block, torch.randn(1, in_c, 8, 8)).shape == (1, out_c, 8 // stride, 8 // stride)


@pytest.mark.parametrize(
    ("in_c", "out_c", "stride", "t", "expected"),
    [
        (16, 24, 2, 6, 16 * 96 + bn(96) + 9 * 96 + bn(96) + 96 * 24 + bn(24)),
        (32, 32, 1, 6, 32 * 192 + bn(192) + 9 * 192 + bn(192) + 192 * 32 + bn(32)),
        (32, 16, 1, 1, 9 * 32 + bn(32) + 32 * 16 + bn(16)),
    ],
)
def test_inverted_residual(in_c, out_c, stride, t, expected):
    block = InvertedResidual(in_c, out_c, stride, expand_ratio=t)
    assert n_params(block) == expected
    assert block.use_residual == (stride == 1 and in_c == out_c)
    assert run(block, torch.randn(1, in_c, 8, 8)).shape == (1, out_c, 8 // stride, 8 // stride)


@pytest.mark.parametrize(("c", "s"), [(96, 4), (32, 8)])
def test_squeeze_excitation(c, s):
    block = SqueezeExcitation(c, s)
    assert n_params(block) == c * s + s + s * c + c
    x = torch.randn(2, c, 5, 5)
    out = run(block, x)
    assert out.shape == x.shape
    ratio = out / x  # one gate in (0, 1) per sample and channel, the same at every pixel
    assert ((ratio > 0) & (ratio < 1)).all()
    assert torch.allclose(ratio, ratio[:, :, :1, :1].expand_as(ratio), atol=1e-5)


def se(h, s):
    return h * s + s + s * h + h


@pytest.mark.parametrize(
    ("in_c", "out_c", "k", "stride", "t", "expected"),
    [
        (16, 24, 3, 2, 6, 16 * 96 + bn(96) + 9 * 96 + bn(96) + se(96, 4) + 96 * 24 + bn(24)),
        (32, 16, 3, 1, 1, 9 * 32 + bn(32) + se(32, 8) + 32 * 16 + bn(16)),
        (40, 40, 5, 1, 6, 40 * 240 + bn(240) + 25 * 240 + bn(240) + se(240, 10) + 240 * 40 + bn(40)),
    ],
)
def test_mbconv(in_c, out_c, k, stride, t, expected):
    block = MBConv(in_c, out_c, k, stride, t)
    assert n_params(block) == expected
    assert block.use_residual == (stride == 1 and in_c == out_c)
    assert run(block, torch.randn(1, in_c, 8, 8)).shape == (1, out_c, 8 // stride, 8 // stride)


@pytest.mark.parametrize("c", [96, 8])
def test_layer_norm_2d(c):
    norm = LayerNorm2d(c)
    assert n_params(norm) == 2 * c
    out = run(norm, torch.randn(2, c, 3, 4) * 5 + 3)
    assert out.shape == (2, c, 3, 4)
    assert torch.allclose(out.mean(dim=1), torch.zeros(2, 3, 4), atol=1e-5)  # per pixel, over channels


@pytest.mark.parametrize("dim", [96, 32])
def test_convnext_block(dim):
    block = ConvNeXtBlock(dim)
    expected = (49 * dim + dim) + 2 * dim + (4 * dim * dim + 4 * dim) + (4 * dim * dim + dim) + dim
    assert n_params(block) == expected == 8 * dim * dim + 58 * dim
    x = torch.randn(1, dim, 7, 7)
    out = run(block, x)
    assert out.shape == x.shape
    assert torch.allclose(out, x, atol=1e-3)  # layer scale 1e-6: a new block starts near the identity


def test_stochastic_depth_only_while_training():
    torch.manual_seed(0)
    block = MBConv(8, 8, 3, 1, 6, stochastic_depth_prob=0.5)
    x = torch.randn(64, 8, 4, 4)
    assert torch.equal(run(block, x), run(block, x))  # eval: deterministic
    block.train()
    with torch.no_grad():
        out = block(x)
    dropped = (out == x).flatten(1).all(dim=1)  # the branch was skipped for these samples
    assert 0 < dropped.sum() < 64


def test_models_train_mode_forward():
    torch.manual_seed(0)
    for build in (models.efficientnet_b0, models.convnext_tiny, models.googlenet):
        model = build(num_classes=3).train()
        assert model(torch.randn(2, 3, 64, 64)).shape == (2, 3)
