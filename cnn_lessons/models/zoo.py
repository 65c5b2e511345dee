"""Whole architectures, written from the papers in plain PyTorch: one function per model, and :data:`MODELS`.

Parameter counts equal the reference implementations' exactly: torchvision's (GoogLeNet without its auxiliary
heads), and for Xception, which torchvision lacks, Keras's trainable count. So a number printed in a lesson
matches the number people quote. The code is ours; only the layer tables come from the papers. Every model is
an ``nn.Sequential`` of named stages (``stem``, ``layer1``, ..., ``avgpool``, ``classifier``), so
``model.layer3`` or :func:`~cnn_lessons.models.stage_parameter_counts` gives a stage at a glance, and the last
``nn.Linear`` in ``model.modules()`` is the head with ``num_classes`` outputs.
:func:`cnn_lessons.arithmetic.receptive_field` reads every model, following each branch (``torch.fx``).
"""

from __future__ import annotations

import numbers
from collections import OrderedDict

from torch import nn

from cnn_lessons.models.blocks import (
    BasicBlock,
    Bottleneck,
    ConvBNAct,
    ConvNeXtBlock,
    DenseBlock,
    Inception,
    InvertedResidual,
    LayerNorm2d,
    MBConv,
    SeparableConv2d,
    Transition,
    XceptionBlock,
)

__all__ = [
    "lenet5",
    "alexnet",
    "vgg16",
    "googlenet",
    "resnet18",
    "resnet50",
    "densenet121",
    "mobilenet_v2",
    "efficientnet_b0",
    "convnext_tiny",
    "xception",
    "MODELS",
    "VGG16_CONFIG",
    "GOOGLENET_INCEPTIONS",
    "MOBILENET_V2_SETTINGS",
    "EFFICIENTNET_B0_STAGES",
    "XCEPTION_FLOWS",
]


def _check_num_classes(num_classes) -> int:
    """Return ``num_classes`` as an int, or explain why it cannot size a classifier head."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(
            f"num_classes must be a whole number (how many classes the last layer scores), "
            f"got {num_classes!r} ({type(num_classes).__name__})"
        )
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1 (the head needs one output per class), got {num_classes}")
    return int(num_classes)


def _init_weights(model: nn.Module) -> nn.Module:
    """The usual initialisation of the reference implementations (He et al. for convs, small normal heads).

    Convolutions: Kaiming normal (fan_out); norms: weight 1, bias 0; linear layers: normal(0, 0.01), bias 0.
    Parameter counts do not depend on it; it only makes deep models without batch norm (VGG) trainable.
    """
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.BatchNorm2d, nn.LayerNorm)):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, 0.01)
            nn.init.zeros_(module.bias)
    return model


def _classifier(in_features: int, num_classes: int, dropout: float = 0.0) -> nn.Sequential:
    """Flatten (+ dropout) + the final linear layer, the head shared by most models below."""
    layers: list[nn.Module] = [nn.Flatten()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(in_features, num_classes))
    return nn.Sequential(*layers)


def lenet5(*, num_classes: int = 10) -> nn.Module:
    """LeNet-5 for 1x32x32 images (LeCun et al., "Gradient-based learning applied to document recognition",
    Proc. IEEE 1998; no arXiv id).

    Layers as the paper names them: C1 6@5x5 -> S2 2x2 subsampling -> C3 16@5x5 -> S4 -> C5 120@5x5 (on a
    5x5 input this is a fully connected layer written as a conv) -> F6 84 -> output ``num_classes``.
    Simplifications, the usual modern reading of the paper:

    * C3 connects every S2 map to every C3 map (an ordinary conv: 2416 parameters). The paper's table
      connected each C3 map to only 3, 4 or 6 of the S2 maps (1516 parameters) to break symmetry.
    * S2/S4 are plain 2x2 average pools without parameters; the paper's subsampling had a trainable
      coefficient and bias per map (12 and 32 parameters).
    * ``tanh`` instead of the paper's scaled tanh 1.7159*tanh(2x/3), and a linear output layer instead of
      the Euclidean RBF units.

    Parameters: 6*(25+1) + 16*(6*25+1) + 120*(16*25+1) + 84*(120+1) + num_classes*(84+1)
    = 61,706 for 10 classes.
    """
    num_classes = _check_num_classes(num_classes)
    return nn.Sequential(
        OrderedDict(
            c1=nn.Sequential(nn.Conv2d(1, 6, 5), nn.Tanh()),  # 1x32x32 -> 6x28x28
            s2=nn.AvgPool2d(2),  # -> 6x14x14
            c3=nn.Sequential(nn.Conv2d(6, 16, 5), nn.Tanh()),  # -> 16x10x10
            s4=nn.AvgPool2d(2),  # -> 16x5x5
            c5=nn.Sequential(nn.Conv2d(16, 120, 5), nn.Tanh()),  # -> 120x1x1
            f6=nn.Sequential(nn.Flatten(), nn.Linear(120, 84), nn.Tanh()),  # -> 84
            output=nn.Linear(84, num_classes),
        )
    )


def alexnet(*, num_classes: int = 1000) -> nn.Module:
    """AlexNet (Krizhevsky, Sutskever & Hinton, NeurIPS 2012): ReLU, dropout, trained on two GPUs.

    Channel widths 64-192-384-256-256 follow the single-GPU version from Krizhevsky's "One weird trick for
    parallelizing convolutional neural networks" (arXiv:1404.5997), as torchvision does; the 2012 paper split
    96-256-384-384-256 across two GPUs. An adaptive 6x6 average pool lets other input sizes reach the
    9216-input fully connected layers. 61,100,840 parameters for 1000 classes, 58.6 million in the head.
    """
    num_classes = _check_num_classes(num_classes)
    model = nn.Sequential(
        OrderedDict(
            conv1=nn.Sequential(nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2)),
            conv2=nn.Sequential(nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2)),
            conv3=nn.Sequential(nn.Conv2d(192, 384, 3, padding=1), nn.ReLU()),
            conv4=nn.Sequential(nn.Conv2d(384, 256, 3, padding=1), nn.ReLU()),
            conv5=nn.Sequential(nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2)),
            avgpool=nn.AdaptiveAvgPool2d(6),
            classifier=nn.Sequential(
                nn.Flatten(),
                nn.Dropout(0.5),
                nn.Linear(256 * 6 * 6, 4096),
                nn.ReLU(),
                nn.Dropout(0.5),
                nn.Linear(4096, 4096),
                nn.ReLU(),
                nn.Linear(4096, num_classes),
            ),
        )
    )
    return _init_weights(model)


# Simonyan & Zisserman, Table 1, configuration D: output channels of each 3x3 conv, "M" = 2x2 max pool.
VGG16_CONFIG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def vgg16(*, num_classes: int = 1000) -> nn.Module:
    """VGG-16 without batch norm (Simonyan & Zisserman, "Very Deep Convolutional Networks", arXiv:1409.1556).

    Only 3x3 convs (padding 1) and 2x2 max pools, read from :data:`VGG16_CONFIG` (the paper's column D);
    each pool ends one of the stages ``block1`` .. ``block5``. Then an adaptive 7x7 average pool and three
    fully connected layers 25088 -> 4096 -> 4096 -> num_classes. 138,357,544 parameters for 1000 classes.
    """
    num_classes = _check_num_classes(num_classes)
    stages: OrderedDict[str, nn.Module] = OrderedDict()
    layers: list[nn.Module] = []
    in_channels = 3
    for item in VGG16_CONFIG:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
            stages[f"block{len(stages) + 1}"] = nn.Sequential(*layers)
            layers = []
        else:
            layers += [nn.Conv2d(in_channels, item, 3, padding=1), nn.ReLU()]
            in_channels = item
    stages["avgpool"] = nn.AdaptiveAvgPool2d(7)
    stages["classifier"] = nn.Sequential(
        nn.Flatten(),
        nn.Linear(512 * 7 * 7, 4096),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(4096, 4096),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(4096, num_classes),
    )
    return _init_weights(nn.Sequential(stages))


# Szegedy et al., Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj for each Inception module.
GOOGLENET_INCEPTIONS = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


def googlenet(*, num_classes: int = 1000) -> nn.Module:
    """GoogLeNet / Inception v1 (Szegedy et al., "Going Deeper with Convolutions", arXiv:1409.4842).

    Stem (7x7/2 conv, pool, 1x1 conv, 3x3 conv, pool), nine :class:`Inception` modules from
    :data:`GOOGLENET_INCEPTIONS` in three stages separated by max pools, global average pool, dropout
    (0.2 as in torchvision; the paper used 0.4), one linear layer. The two auxiliary classifiers used only
    in training are left out. Layer details follow torchvision (convs with batch norm, ceil-mode pools,
    3x3 in the "5x5" branch), giving 6,624,904 parameters for 1000 classes.
    """
    num_classes = _check_num_classes(num_classes)

    def pool(kernel_size: int = 3) -> nn.MaxPool2d:
        return nn.MaxPool2d(kernel_size, stride=2, ceil_mode=True)

    def stage(names: str, in_channels: int) -> tuple[OrderedDict[str, nn.Module], int]:
        modules: OrderedDict[str, nn.Module] = OrderedDict()
        for name in names.split():
            module = Inception(in_channels, *GOOGLENET_INCEPTIONS[name])
            modules[f"inception{name}"] = module
            in_channels = module.out_channels
        return modules, in_channels

    stem = nn.Sequential(
        ConvBNAct(3, 64, 7, stride=2, eps=1e-3),
        pool(),
        ConvBNAct(64, 64, 1, eps=1e-3),
        ConvBNAct(64, 192, 3, eps=1e-3),
        pool(),
    )
    stage3, channels = stage("3a 3b", 192)
    stage4, channels = stage("4a 4b 4c 4d 4e", channels)
    stage5, channels = stage("5a 5b", channels)
    model = nn.Sequential(
        OrderedDict(
            stem=stem,
            inception3=nn.Sequential(OrderedDict(stage3, maxpool=pool())),
            inception4=nn.Sequential(OrderedDict(stage4, maxpool=pool(2))),
            inception5=nn.Sequential(stage5),
            avgpool=nn.AdaptiveAvgPool2d(1),
            classifier=_classifier(channels, num_classes, dropout=0.2),
        )
    )
    return _init_weights(model)


def _resnet(block: type[BasicBlock] | type[Bottleneck], depths: list[int], num_classes: int) -> nn.Module:
    """ResNet skeleton (He et al., Table 1): stem, four stages of ``depths`` blocks of width 64..512, head."""
    num_classes = _check_num_classes(num_classes)
    stages: OrderedDict[str, nn.Module] = OrderedDict()
    stages["stem"] = nn.Sequential(
        nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1),
    )
    in_channels = 64
    for index, (width, depth) in enumerate(zip((64, 128, 256, 512), depths, strict=True)):
        first_stride = 1 if index == 0 else 2  # stage 1 follows the max pool; the others halve the size
        blocks = []
        for i in range(depth):
            blocks.append(block(in_channels, width, first_stride if i == 0 else 1))
            in_channels = width * block.expansion
        stages[f"layer{index + 1}"] = nn.Sequential(*blocks)
    stages["avgpool"] = nn.AdaptiveAvgPool2d(1)
    stages["classifier"] = _classifier(in_channels, num_classes)
    return _init_weights(nn.Sequential(stages))


def resnet18(*, num_classes: int = 1000) -> nn.Module:
    """ResNet-18 (He et al., arXiv:1512.03385): :class:`BasicBlock` s, [2, 2, 2, 2] per stage.

    11,689,512 parameters for 1000 classes.
    """
    return _resnet(BasicBlock, [2, 2, 2, 2], num_classes)


def resnet50(*, num_classes: int = 1000) -> nn.Module:
    """ResNet-50 (He et al., arXiv:1512.03385): :class:`Bottleneck` blocks, [3, 4, 6, 3] per stage.

    25,557,032 parameters for 1000 classes.
    """
    return _resnet(Bottleneck, [3, 4, 6, 3], num_classes)


def densenet121(*, num_classes: int = 1000) -> nn.Module:
    """DenseNet-121 (Huang et al., arXiv:1608.06993): growth rate 32, dense blocks of (6, 12, 24, 16).

    DenseNet-BC: each :class:`DenseLayer` has a 1x1 bottleneck of 4*32 channels, and each
    :class:`Transition` halves the channels and the spatial size. Stem: 7x7/2 conv to 64 channels + BN +
    ReLU + 3x3/2 max pool; a final BN + ReLU before global pooling. 7,978,856 parameters for 1000 classes.
    """
    num_classes = _check_num_classes(num_classes)
    growth_rate, block_config, bn_size = 32, (6, 12, 24, 16), 4
    stages: OrderedDict[str, nn.Module] = OrderedDict()
    stages["stem"] = nn.Sequential(
        nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1),
    )
    channels = 64
    for index, num_layers in enumerate(block_config, start=1):
        block = DenseBlock(num_layers, channels, growth_rate, bn_size)
        stages[f"denseblock{index}"] = block
        channels = block.out_channels
        if index < len(block_config):
            stages[f"transition{index}"] = Transition(channels, channels // 2)
            channels //= 2
    stages["norm"] = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU())
    stages["avgpool"] = nn.AdaptiveAvgPool2d(1)
    stages["classifier"] = _classifier(channels, num_classes)
    return _init_weights(nn.Sequential(stages))


# Sandler et al., Table 2: expansion t, output channels c, repeats n, stride s of the first repeat.
MOBILENET_V2_SETTINGS = [
    # t, c, n, s
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


def mobilenet_v2(*, num_classes: int = 1000) -> nn.Module:
    """MobileNetV2, width 1.0 (Sandler et al., arXiv:1801.04381).

    A 3x3/2 conv to 32 channels, then :class:`InvertedResidual` stages read from
    :data:`MOBILENET_V2_SETTINGS` (the paper's (t, c, n, s) table), a 1x1 conv to 1280, global average pool,
    dropout 0.2 and the linear head. 3,504,872 parameters for 1000 classes.
    """
    num_classes = _check_num_classes(num_classes)
    stages: OrderedDict[str, nn.Module] = OrderedDict()
    stages["stem"] = ConvBNAct(3, 32, 3, stride=2, activation=nn.ReLU6)
    channels = 32
    for index, (t, c, n, s) in enumerate(MOBILENET_V2_SETTINGS, start=1):
        blocks = []
        for i in range(n):
            blocks.append(InvertedResidual(channels, c, s if i == 0 else 1, expand_ratio=t))
            channels = c
        stages[f"stage{index}"] = nn.Sequential(*blocks)
    stages["last_conv"] = ConvBNAct(channels, 1280, 1, activation=nn.ReLU6)
    stages["avgpool"] = nn.AdaptiveAvgPool2d(1)
    stages["classifier"] = _classifier(1280, num_classes, dropout=0.2)
    return _init_weights(nn.Sequential(stages))


# Tan & Le, Table 1 (EfficientNet-B0): expand ratio, kernel, stride of the first layer, output channels,
# layers. Each row is one stage of MBConv blocks; the stem makes 32 channels and the head 1280.
EFFICIENTNET_B0_STAGES = [
    # t, k, s, c, n
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
]


def efficientnet_b0(*, num_classes: int = 1000, stochastic_depth_prob: float = 0.2) -> nn.Module:
    """EfficientNet-B0 (Tan & Le, arXiv:1905.11946), the baseline that compound scaling grows into B1-B7.

    Stem 3x3/2 conv to 32 channels, :class:`MBConv` stages from :data:`EFFICIENTNET_B0_STAGES`, a 1x1 conv to
    1280, global average pool, dropout 0.2, linear head; SiLU throughout. The stochastic-depth probability
    grows linearly from 0 at the first block to ``stochastic_depth_prob`` (as in torchvision).
    5,288,548 parameters for 1000 classes.
    """
    num_classes = _check_num_classes(num_classes)
    total_blocks = sum(n for *_, n in EFFICIENTNET_B0_STAGES)
    stages: OrderedDict[str, nn.Module] = OrderedDict()
    stages["stem"] = ConvBNAct(3, 32, 3, stride=2, activation=nn.SiLU, eps=1e-3)
    channels, block_id = 32, 0
    for index, (t, k, s, c, n) in enumerate(EFFICIENTNET_B0_STAGES, start=1):
        blocks = []
        for i in range(n):
            p = stochastic_depth_prob * block_id / total_blocks
            blocks.append(MBConv(channels, c, k, s if i == 0 else 1, t, stochastic_depth_prob=p))
            channels, block_id = c, block_id + 1
        stages[f"stage{index}"] = nn.Sequential(*blocks)
    stages["last_conv"] = ConvBNAct(channels, 1280, 1, activation=nn.SiLU, eps=1e-3)
    stages["avgpool"] = nn.AdaptiveAvgPool2d(1)
    stages["classifier"] = _classifier(1280, num_classes, dropout=0.2)
    return _init_weights(nn.Sequential(stages))


def convnext_tiny(*, num_classes: int = 1000, stochastic_depth_prob: float = 0.1) -> nn.Module:
    """ConvNeXt-T (Liu et al., "A ConvNet for the 2020s", arXiv:2201.03545).

    "Patchify" stem (4x4/4 conv + LayerNorm), four stages of :class:`ConvNeXtBlock` with depths (3, 3, 9, 3)
    and widths (96, 192, 384, 768), each later stage entered through LayerNorm + 2x2/2 conv; then global
    average pool, LayerNorm and the linear head. Stochastic depth grows linearly from 0 to
    ``stochastic_depth_prob`` over the 18 blocks. 28,589,128 parameters for 1000 classes.
    """
    num_classes = _check_num_classes(num_classes)
    depths, dims = (3, 3, 9, 3), (96, 192, 384, 768)
    total_blocks = sum(depths)
    stages: OrderedDict[str, nn.Module] = OrderedDict()
    stages["stem"] = nn.Sequential(nn.Conv2d(3, dims[0], 4, stride=4), LayerNorm2d(dims[0]))
    block_id = 0
    for index, (depth, dim) in enumerate(zip(depths, dims, strict=True), start=1):
        if index > 1:
            stages[f"downsample{index}"] = nn.Sequential(
                LayerNorm2d(dims[index - 2]), nn.Conv2d(dims[index - 2], dim, 2, stride=2)
            )
        blocks = []
        for _ in range(depth):
            p = stochastic_depth_prob * block_id / (total_blocks - 1)
            blocks.append(ConvNeXtBlock(dim, stochastic_depth_prob=p))
            block_id += 1
        stages[f"stage{index}"] = nn.Sequential(*blocks)
    stages["avgpool"] = nn.AdaptiveAvgPool2d(1)
    stages["classifier"] = nn.Sequential(LayerNorm2d(dims[-1]), nn.Flatten(), nn.Linear(dims[-1], num_classes))
    model = _init_weights(nn.Sequential(stages))
    for module in model.modules():  # the paper initialises with truncated normal(0.02); keep layer scale
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.trunc_normal_(module.weight, std=0.02)
    return model


# Chollet, Figure 5: the channels each block of separable convolutions goes through, and its stride (2: the
# block ends with a 3x3/2 max pool and its shortcut is a 1x1/2 conv). Entry flow, middle flow (8 repeats of one
# block), exit flow; the stem (32 and 64 channels) and the last two separable convs (1536, 2048) are not blocks.
XCEPTION_FLOWS = {
    "entry": [((64, 128, 128), 2), ((128, 256, 256), 2), ((256, 728, 728), 2)],
    "middle": [((728, 728, 728, 728), 1)] * 8,
    "exit": [((728, 728, 1024), 2)],
}


def xception(*, num_classes: int = 1000) -> nn.Module:
    """Xception (Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions", CVPR 2017,
    arXiv:1610.02357) for 3x299x299 images: Inception's idea taken to the extreme, every 3x3 conv separable.

    Stem: two ordinary 3x3 convs without padding (32 channels stride 2, then 64), each + BN + ReLU
    (299 -> 149 -> 147). Then the :class:`XceptionBlock` s of :data:`XCEPTION_FLOWS`: the entry flow's three
    (128, 256, 728 channels, each halving the size: 74, 37, 19), the middle flow's eight (728 channels at
    19x19, identity shortcuts) and the exit flow's one (728 -> 1024, to 10x10); then separable convs to 1536
    and 2048, each + BN + ReLU, global average pool and one linear layer. The stages are ``stem``,
    ``entry1`` .. ``entry3``, ``middle`` (the eight blocks), ``exit``, ``exit_convs``, ``avgpool``,
    ``classifier``. Layer details follow the reference, Keras's ``keras.applications.Xception``: no biases in
    convolutions, BN (eps 0.001) after every separable conv, no dropout; Keras's "same" max pools are written
    as padding 1 (the same sizes; only on the 74x74 map does Keras pad one side alone, shifting the windows by
    a pixel). 22,855,952 parameters for 1000 classes, Keras's trainable count; Keras's 54,528 others are the
    batch norms' running means and variances, buffers here.
    """
    num_classes = _check_num_classes(num_classes)
    stages: OrderedDict[str, nn.Module] = OrderedDict()
    stages["stem"] = nn.Sequential(  # not ConvBNAct: the reference pads neither conv
        nn.Conv2d(3, 32, 3, stride=2, bias=False),
        nn.BatchNorm2d(32, eps=1e-3),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3, bias=False),
        nn.BatchNorm2d(64, eps=1e-3),
        nn.ReLU(),
    )
    for index, (widths, stride) in enumerate(XCEPTION_FLOWS["entry"], start=1):
        stages[f"entry{index}"] = XceptionBlock(widths, stride, start_with_relu=index > 1)
    stages["middle"] = nn.Sequential(*(XceptionBlock(widths, stride) for widths, stride in XCEPTION_FLOWS["middle"]))
    ((widths, stride),) = XCEPTION_FLOWS["exit"]
    stages["exit"] = XceptionBlock(widths, stride)
    stages["exit_convs"] = nn.Sequential(
        SeparableConv2d(1024, 1536),
        nn.BatchNorm2d(1536, eps=1e-3),
        nn.ReLU(),
        SeparableConv2d(1536, 2048),
        nn.BatchNorm2d(2048, eps=1e-3),
        nn.ReLU(),
    )
    stages["avgpool"] = nn.AdaptiveAvgPool2d(1)
    stages["classifier"] = _classifier(2048, num_classes)
    return _init_weights(nn.Sequential(stages))


MODELS = {
    "lenet5": lenet5,
    "alexnet": alexnet,
    "vgg16": vgg16,
    "googlenet": googlenet,
    "resnet18": resnet18,
    "resnet50": resnet50,
    "densenet121": densenet121,
    "mobilenet_v2": mobilenet_v2,
    "efficientnet_b0": efficientnet_b0,
    "convnext_tiny": convnext_tiny,
    "xception": xception,
}
"""Every model function by name, for explorers and comparison tables."""
