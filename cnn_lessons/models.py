"""Classic CNN building blocks and whole architectures, written from the papers in plain PyTorch.

Two kinds of objects live here:

* **Blocks** (``nn.Module`` classes): the idea each paper introduced, e.g. :class:`BasicBlock` (ResNet's
  residual connection) or :class:`Inception` (GoogLeNet's parallel branches). Each docstring names the
  paper, its arXiv id, and the block's parameter count as a formula you can check by hand.
* **Models** (functions returning ``nn.Module``): :func:`lenet5`, :func:`alexnet`, :func:`vgg16`,
  :func:`googlenet`, :func:`resnet18`, :func:`resnet50`, :func:`densenet121`, :func:`mobilenet_v2`,
  :func:`efficientnet_b0` and :func:`convnext_tiny`. Their parameter counts equal torchvision's reference
  implementations exactly (GoogLeNet without its auxiliary heads), so a number printed in a lesson matches
  the number people quote. The code is ours; only the layer tables come from the papers.

Conventions, chosen so the models are easy to look inside:

* Every model is an ``nn.Sequential`` of named stages (``stem``, ``layer1``, ..., ``avgpool``,
  ``classifier``), so ``model.layer3`` or :func:`stage_parameter_counts` gives a stage at a glance, and the
  last ``nn.Linear`` in ``model.modules()`` is the head with ``num_classes`` outputs.
* A block whose forward is a plain chain of layers is an ``nn.Sequential`` subclass (``ConvBNAct``,
  ``DepthwiseSeparableConv``, ``Transition``); a block whose forward branches or adds a shortcut is an
  ``nn.Module`` with its own ``forward``. :func:`cnn_lessons.arithmetic.receptive_field` can therefore read
  the chain-only models (LeNet-5, AlexNet, VGG) directly and explains why it cannot read the others.
* "Stochastic depth" (randomly skipping a residual branch while training) has no parameters; it is
  implemented for MBConv and the ConvNeXt block and does nothing in ``eval()`` mode.
"""

from __future__ import annotations

import copy
import numbers
from collections import OrderedDict
from collections.abc import Callable, Sequence

import torch
from torch import nn

from cnn_lessons.arithmetic import check_int, conv_output_size, conv_parameter_count, pool_output_size

__all__ = [
    # blocks
    "ConvBNAct",
    "BasicBlock",
    "Bottleneck",
    "Inception",
    "DenseLayer",
    "DenseBlock",
    "Transition",
    "DepthwiseSeparableConv",
    "InvertedResidual",
    "SqueezeExcitation",
    "MBConv",
    "LayerNorm2d",
    "ConvNeXtBlock",
    # models
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
    "SimpleCNN",
    "MODELS",
    # helpers
    "count_parameters",
    "stage_parameter_counts",
]


# --------------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------------


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


def _drop_path(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Stochastic depth: while training, zero a residual branch for a random fraction ``p`` of the samples.

    The kept samples are scaled by 1/(1-p) so the expected value is unchanged; in eval mode this is the
    identity. (Huang et al., "Deep Networks with Stochastic Depth", arXiv:1603.09382.)
    """
    if not training or p == 0.0:
        return x
    keep = 1.0 - p
    mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
    return x * mask / keep


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


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of scalar parameters in ``module`` (all of them, or only those with ``requires_grad``)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def stage_parameter_counts(model: nn.Module) -> dict[str, int]:
    """Parameters per top-level child of ``model``, in order: ``{"stem": 9408 + 128, "layer1": ..., ...}``.

    Children without parameters (pooling, activations) are listed with 0, so the dict shows the whole
    model; a bar chart can drop them. Parameters registered directly on ``model`` (not in a child) appear
    under ``"(own)"``. The values add up to the model's total parameter count.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"stage_parameter_counts needs an nn.Module, got {type(model).__name__}")
    counts = {name: count_parameters(child) for name, child in model.named_children()}
    own = sum(p.numel() for p in model.parameters(recurse=False))
    if own:
        counts["(own)"] = own
    return counts


# --------------------------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------------------------


class ConvBNAct(nn.Sequential):
    """Convolution (no bias) + batch norm + activation: the unit most modern CNNs are built from.

    Batch norm: Ioffe & Szegedy, arXiv:1502.03167. The conv needs no bias because batch norm's shift
    replaces it. Padding is (k - 1) // 2, so stride 1 keeps the spatial size ("same").
    ``activation=None`` leaves the output linear (MobileNetV2's projection layer).

    Parameters: in/groups * out * k * k (conv) + 2 * out (batch norm scale and shift).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        groups: int = 1,
        activation: type[nn.Module] | None = nn.ReLU,
        eps: float = 1e-5,
    ):
        layers = [
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=(kernel_size - 1) // 2,
                groups=groups,
                bias=False,
            ),
            nn.BatchNorm2d(out_channels, eps=eps),
        ]
        if activation is not None:
            layers.append(activation())
        super().__init__(*layers)
        self.in_channels, self.out_channels = in_channels, out_channels


class BasicBlock(nn.Module):
    """ResNet's basic residual block: out = ReLU(F(x) + shortcut(x)), F = 3x3 conv-BN-ReLU-3x3 conv-BN.

    He et al., "Deep Residual Learning for Image Recognition", arXiv:1512.03385 (ResNet-18/34).
    The first 3x3 conv carries the stride. When the stride is not 1 or the channel count changes, the
    shortcut is a 1x1 conv (stride ``stride``) + BN so that the two tensors can be added ("option B");
    otherwise it is the identity and has no parameters.

    Parameters: 9*in*out + 9*out*out + 2*(2*out) [+ in*out + 2*out with the projection shortcut].
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + shortcut)


class Bottleneck(nn.Module):
    """ResNet's bottleneck block: 1x1 (reduce to ``width``) - 3x3 - 1x1 (expand to 4*width), plus shortcut.

    He et al., arXiv:1512.03385 (ResNet-50/101/152). The 1x1 convs shrink and restore the channels so the
    expensive 3x3 works on a quarter of them. The stride sits on the 3x3 conv (the "ResNet v1.5" variant
    torchvision uses; the paper strides the first 1x1). Projection shortcut as in :class:`BasicBlock`.

    Parameters, with w = width and out = 4w: in*w + 9*w*w + w*out + 2*(w + w + out)
    [+ in*out + 2*out with the projection shortcut].
    """

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int = 1):
        super().__init__()
        out_channels = width * self.expansion
        self.in_channels, self.out_channels = in_channels, out_channels
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + shortcut)


class Inception(nn.Module):
    """GoogLeNet's Inception module: four parallel branches concatenated along the channels.

    Szegedy et al., "Going Deeper with Convolutions", arXiv:1409.4842. Branches: 1x1; 1x1 reduce -> 3x3;
    1x1 reduce -> "5x5"; 3x3 max pool (stride 1) -> 1x1 projection. The arguments are the columns of the
    paper's Table 1. As in torchvision's GoogLeNet, the "5x5" branch uses a 3x3 kernel, and every conv is
    conv (no bias) + BN (eps 0.001) + ReLU; batch norm came after the paper.

    Output channels: ch1x1 + ch3x3 + ch5x5 + pool_proj. Parameters (k5 = 3 here, every conv with BN):
    in*ch1x1 + in*ch3x3red + 9*ch3x3red*ch3x3 + in*ch5x5red + k5*k5*ch5x5red*ch5x5 + in*pool_proj
    + 2*(ch1x1 + ch3x3red + ch3x3 + ch5x5red + ch5x5 + pool_proj).
    """

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3red: int,
        ch3x3: int,
        ch5x5red: int,
        ch5x5: int,
        pool_proj: int,
    ):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj
        self.branch1 = ConvBNAct(in_channels, ch1x1, 1, eps=1e-3)
        self.branch2 = nn.Sequential(
            ConvBNAct(in_channels, ch3x3red, 1, eps=1e-3), ConvBNAct(ch3x3red, ch3x3, 3, eps=1e-3)
        )
        self.branch3 = nn.Sequential(
            ConvBNAct(in_channels, ch5x5red, 1, eps=1e-3), ConvBNAct(ch5x5red, ch5x5, 3, eps=1e-3)
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
            ConvBNAct(in_channels, pool_proj, 1, eps=1e-3),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return torch.cat([branch(x) for branch in branches], dim=1)


class DenseLayer(nn.Module):
    """One DenseNet-BC layer: BN-ReLU-1x1 conv (bn_size*growth) - BN-ReLU-3x3 conv (growth), then concat.

    Huang et al., "Densely Connected Convolutional Networks", arXiv:1608.06993. The layer sees every
    earlier feature map of its block and appends ``growth_rate`` new channels to them:
    output channels = in + growth_rate (the input is passed through unchanged).

    Parameters, with b = bn_size*growth: 2*in + in*b + 2*b + 9*b*growth.
    """

    def __init__(self, in_channels: int, growth_rate: int = 32, bn_size: int = 4):
        super().__init__()
        bottleneck = bn_size * growth_rate
        self.in_channels, self.out_channels = in_channels, in_channels + growth_rate
        self.new_features = nn.Sequential(
            nn.BatchNorm2d(in_channels),
            nn.ReLU(),
            nn.Conv2d(in_channels, bottleneck, 1, bias=False),
            nn.BatchNorm2d(bottleneck),
            nn.ReLU(),
            nn.Conv2d(bottleneck, growth_rate, 3, padding=1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.new_features(x)], dim=1)


class DenseBlock(nn.Sequential):
    """A DenseNet dense block: ``num_layers`` :class:`DenseLayer` s, layer i seeing in + i*growth channels.

    Huang et al., arXiv:1608.06993. Output channels: in + num_layers*growth_rate; spatial size unchanged.
    Parameters: the sum of DenseLayer(in + i*growth_rate) for i = 0 .. num_layers - 1.
    """

    def __init__(self, num_layers: int, in_channels: int, growth_rate: int = 32, bn_size: int = 4):
        super().__init__()
        self.in_channels = in_channels
        for i in range(num_layers):
            self.add_module(f"denselayer{i + 1}", DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size))
        self.out_channels = in_channels + num_layers * growth_rate


class Transition(nn.Sequential):
    """DenseNet's transition between dense blocks: BN-ReLU-1x1 conv (fewer channels) - 2x2 average pool.

    Huang et al., arXiv:1608.06993 (DenseNet-BC halves the channels here: compression 0.5).
    Parameters: 2*in (BN) + in*out (1x1 conv, no bias).
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(
            nn.BatchNorm2d(in_channels),
            nn.ReLU(),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.AvgPool2d(2, stride=2),
        )
        self.in_channels, self.out_channels = in_channels, out_channels


class DepthwiseSeparableConv(nn.Sequential):
    """A 3x3 convolution split in two: depthwise 3x3 (one filter per channel) then pointwise 1x1.

    Howard et al., "MobileNets", arXiv:1704.04861 (the same factorisation drives Chollet's Xception,
    arXiv:1610.02357). Each half is conv + BN + ReLU. An ordinary 3x3 conv would need 9*in*out weights;
    this needs 9*in + in*out.

    Parameters: 9*in + 2*in (depthwise + BN) + in*out + 2*out (pointwise + BN).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__(
            ConvBNAct(in_channels, in_channels, 3, stride=stride, groups=in_channels),
            ConvBNAct(in_channels, out_channels, 1),
        )
        self.in_channels, self.out_channels = in_channels, out_channels


class InvertedResidual(nn.Module):
    """MobileNetV2's inverted residual: expand 1x1 (x t), depthwise 3x3, project 1x1 back down, linearly.

    Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", arXiv:1801.04381. Narrow ->
    wide -> narrow (the opposite of ResNet's bottleneck); ReLU6 after the first two convs, none after the
    projection. The input is added back when stride == 1 and in == out. With t == 1 the expansion is
    skipped.

    Parameters, with h = t*in: [in*h + 2*h if t != 1] + 9*h + 2*h + h*out + 2*out.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, expand_ratio: int = 6):
        super().__init__()
        hidden = round(in_channels * expand_ratio)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.use_residual = stride == 1 and in_channels == out_channels
        layers = []
        if expand_ratio != 1:
            layers.append(ConvBNAct(in_channels, hidden, 1, activation=nn.ReLU6))
        layers += [
            ConvBNAct(hidden, hidden, 3, stride=stride, groups=hidden, activation=nn.ReLU6),
            ConvBNAct(hidden, out_channels, 1, activation=None),
        ]
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        return x + out if self.use_residual else out


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation: reweight each channel by a gate computed from the whole image.

    Hu et al., "Squeeze-and-Excitation Networks", arXiv:1709.01507. Squeeze: global average pool to one
    number per channel. Excite: 1x1 conv down to ``squeeze_channels``, activation, 1x1 conv back up,
    sigmoid. The output is the input times that gate (same shape).

    Parameters: c*s + s + s*c + c (two 1x1 convs with bias), c = channels, s = squeeze_channels.
    """

    def __init__(self, channels: int, squeeze_channels: int, activation: type[nn.Module] = nn.ReLU):
        super().__init__()
        self.channels = channels
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.activation = activation()
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.gate(self.fc2(self.activation(self.fc1(self.pool(x)))))
        return x * scale


class MBConv(nn.Module):
    """EfficientNet's MBConv: MobileNetV2's inverted residual with squeeze-excitation and SiLU.

    Tan & Le, "EfficientNet: Rethinking Model Scaling for CNNs", arXiv:1905.11946. Expand 1x1 (x t,
    skipped when t == 1), depthwise k x k, squeeze-excitation (squeeze to in*se_ratio channels of the
    block's *input*), project 1x1 linearly; residual (with stochastic depth) when stride == 1 and in == out.

    Parameters, with h = t*in and s = max(1, int(in*se_ratio)):
    [in*h + 2*h if t != 1] + k*k*h + 2*h + (2*h*s + s + h) + h*out + 2*out.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        expand_ratio: int = 6,
        se_ratio: float = 0.25,
        stochastic_depth_prob: float = 0.0,
    ):
        super().__init__()
        hidden = in_channels * expand_ratio
        squeeze = max(1, int(in_channels * se_ratio))
        self.in_channels, self.out_channels = in_channels, out_channels
        self.use_residual = stride == 1 and in_channels == out_channels
        self.stochastic_depth_prob = stochastic_depth_prob
        layers = []
        if expand_ratio != 1:
            layers.append(ConvBNAct(in_channels, hidden, 1, activation=nn.SiLU, eps=1e-3))
        layers += [
            ConvBNAct(hidden, hidden, kernel_size, stride=stride, groups=hidden, activation=nn.SiLU, eps=1e-3),
            SqueezeExcitation(hidden, squeeze, activation=nn.SiLU),
            ConvBNAct(hidden, out_channels, 1, activation=None, eps=1e-3),
        ]
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        if not self.use_residual:
            return out
        return x + _drop_path(out, self.stochastic_depth_prob, self.training)


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW tensor, separately at every pixel (ConvNeXt's norm).

    Ba et al., "Layer Normalization", arXiv:1607.06450, as ConvNeXt applies it: ``nn.LayerNorm`` normalises
    the *last* axis, so the tensor is moved to channels-last (N, H, W, C), normalised, and moved back.
    Parameters: 2*channels (scale and shift per channel).
    """

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__(channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)  # N, C, H, W -> N, H, W, C
        x = super().forward(x)
        return x.permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    """ConvNeXt block: 7x7 depthwise conv, LayerNorm, 1x1 up to 4*dim, GELU, 1x1 back, layer scale, add.

    Liu et al., "A ConvNet for the 2020s", arXiv:2201.03545: a ResNet block redesigned step by step
    after the Swin Transformer (large depthwise kernel = "token mixing", inverted MLP, one norm, one GELU).
    The two 1x1 convs are written as ``nn.Linear`` on a channels-last tensor, which is the same operation.
    ``gamma`` (layer scale, initialised to 1e-6) starts each block close to the identity.

    Parameters: (49*dim + dim) + 2*dim + (4*dim*dim + 4*dim) + (4*dim*dim + dim) + dim = 8*dim^2 + 58*dim.
    """

    def __init__(self, dim: int, layer_scale_init: float = 1e-6, stochastic_depth_prob: float = 0.0):
        super().__init__()
        self.in_channels = self.out_channels = dim
        self.stochastic_depth_prob = stochastic_depth_prob
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), float(layer_scale_init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.dwconv(x).permute(0, 2, 3, 1)  # N, C, H, W -> N, H, W, C
        out = self.pwconv2(self.act(self.pwconv1(self.norm(out))))
        out = (self.gamma * out).permute(0, 3, 1, 2)  # back to N, C, H, W
        return x + _drop_path(out, self.stochastic_depth_prob, self.training)


# --------------------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------------------


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
}
"""Every model function by name, for explorers and comparison tables."""


# --------------------------------------------------------------------------------------------------------
# A configurable CNN for the lessons
# --------------------------------------------------------------------------------------------------------


def _positive_ints(name: str, value, example: str) -> tuple[int, ...]:
    """``value`` as a tuple of positive ints (possibly empty), or a TypeError/ValueError that shows a fix."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        hint = f" (for a single layer write {name}=({value},))" if isinstance(value, numbers.Integral) else ""
        raise TypeError(
            f"{name} must be a sequence of positive whole numbers, e.g. {name}={example}, "
            f"got {value!r} ({type(value).__name__}){hint}"
        )
    return tuple(check_int(f"{name}[{i}]", v) for i, v in enumerate(value))


def _int_pair(name: str, value, minimum: int = 1) -> tuple[int, int]:
    """An int or an (h, w) pair of ints as an (h, w) tuple."""
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or an (h, w) pair, got {value!r}")
        return check_int(f"{name}[0]", value[0], minimum), check_int(f"{name}[1]", value[1], minimum)
    value = check_int(name, value, minimum)
    return value, value


def _size(hw: tuple[int, int]) -> str:
    return f"{hw[0]}x{hw[1]}"


class SimpleCNN(nn.Sequential):
    """A configurable CNN: conv blocks, then an MLP head. Every shape in it is computed, not hand-written.

    Layers, in order (the names are those of ``model.named_modules()``)::

        block1.conv  Conv2d(in_channels, conv_channels[0], kernel_size, padding=padding)
        block1.act   activation()
        block1.pool  MaxPool2d(pool)                 (left out when the block's pool is None or 1)
        ...          one block per entry of conv_channels
        global_pool  AdaptiveAvgPool2d(1) / AdaptiveMaxPool2d(1)   (only with global_pool="avg"/"max")
        flatten      Flatten()
        classifier.fc1, classifier.act1, ...         Linear + activation per entry of hidden
        classifier.out                              Linear(..., num_classes): logits, no activation

    The flatten size (the first linear layer's input) is worked out from the input size with
    :func:`cnn_lessons.arithmetic.conv_output_size` and :func:`~cnn_lessons.arithmetic.pool_output_size`;
    :meth:`shape_trace` lists the output shape of every layer, and :meth:`shape_table` prints it with
    each layer's parameter count. A configuration that shrinks the feature map to nothing raises a
    ``ValueError`` that names the block, the sizes and what would fit, instead of failing in the forward
    pass.

    Args:
        in_channels: channels of the input images (3 for RGB, 1 for grayscale).
        conv_channels: output channels of each conv block, first block first, e.g. ``(8, 16)``. An empty
            sequence gives no conv blocks: the model is then a plain MLP on the flattened pixels.
        kernel_size: the convolutions' kernel size, an int or a (kh, kw) pair (stride 1 throughout).
        padding: zero padding of each convolution: an int or (ph, pw) pair, ``"same"`` (the output keeps the
            input size; for an even kernel torch pads one more on the right/bottom) or ``"valid"`` (none).
        pool: max-pool window (and stride) after each conv block; ``None`` or 1 for no pooling. A sequence
            gives one entry per block, e.g. ``(2, None)`` pools after the first block only.
        hidden: sizes of the hidden linear layers of the head, e.g. ``(32,)``; ``()`` for none.
        num_classes: outputs of the last linear layer (one logit per class).
        input_size: the input images' height and width, an int or (h, w) pair.
        activation: the nonlinearity after every conv and hidden linear layer: a class such as ``nn.ReLU``
            or ``nn.Tanh``, or any callable that returns a fresh ``nn.Module``.
        global_pool: ``None`` (flatten the whole feature map), ``"avg"`` or ``"max"`` (reduce each channel
            to one number first, so the head sees ``conv_channels[-1]`` features whatever the map's size).

    Attributes: the arguments, normalised (``kernel_size``, ``input_size`` and an int ``padding`` as (h, w)
    pairs; ``pools``: one window or ``None`` per block; ``global_pooling``: the ``global_pool`` argument),
    and ``flatten_size``, the number of features the head receives.

    The reference configuration of lesson 03, ``SimpleCNN()``, has 224 + 1168 + 32800 + 330 = 34,522
    parameters: input 3x32x32, conv channels (8, 16), 3x3 "same" convs, ReLU, 2x2 max-pools, hidden (32,),
    10 classes.
    """

    def __init__(
        self,
        in_channels: int = 3,
        conv_channels: Sequence[int] = (8, 16),
        kernel_size: int | tuple[int, int] = 3,
        padding: int | tuple[int, int] | str = "same",
        pool: int | None | Sequence[int | None] = 2,
        hidden: Sequence[int] = (32,),
        num_classes: int = 10,
        input_size: int | tuple[int, int] = 32,
        activation: Callable[[], nn.Module] | nn.Module = nn.ReLU,
        global_pool: str | None = None,
    ):
        in_channels = check_int("in_channels", in_channels)
        conv_channels = _positive_ints("conv_channels", conv_channels, "(8, 16)")
        kernel = _int_pair("kernel_size", kernel_size)
        padding = self._check_padding(padding)
        pools = self._check_pool(pool, len(conv_channels))
        hidden = _positive_ints("hidden", hidden, "(32,)")
        num_classes = _check_num_classes(num_classes)
        input_hw = _int_pair("input_size", input_size)
        make_activation = self._check_activation(activation)
        if global_pool is not None and global_pool not in ("avg", "max"):
            raise ValueError(f"global_pool must be None, 'avg' or 'max', got {global_pool!r}")

        # the configuration, normalised (see "Attributes" above); the shapes follow from it
        self.in_channels = in_channels
        self.conv_channels = conv_channels
        self.kernel_size = kernel
        self.padding = padding
        self.pools = pools
        self.hidden = hidden
        self.num_classes = num_classes
        self.input_size = input_hw
        self.global_pooling = global_pool
        self._trace = self._compute_trace()
        self.flatten_size = self._trace_lookup("flatten")[0]

        layers: OrderedDict[str, nn.Module] = OrderedDict()
        channels = in_channels
        for index, (out_channels, window) in enumerate(zip(conv_channels, pools, strict=True), start=1):
            block: OrderedDict[str, nn.Module] = OrderedDict()
            block["conv"] = nn.Conv2d(channels, out_channels, kernel, padding=padding)
            block["act"] = make_activation()
            if window is not None:
                block["pool"] = nn.MaxPool2d(window)
            layers[f"block{index}"] = nn.Sequential(block)
            channels = out_channels
        if global_pool is not None:
            layers["global_pool"] = nn.AdaptiveAvgPool2d(1) if global_pool == "avg" else nn.AdaptiveMaxPool2d(1)
        layers["flatten"] = nn.Flatten()
        head: OrderedDict[str, nn.Module] = OrderedDict()
        features = self.flatten_size
        for index, width in enumerate(hidden, start=1):
            head[f"fc{index}"] = nn.Linear(features, width)
            head[f"act{index}"] = make_activation()
            features = width
        head["out"] = nn.Linear(features, num_classes)
        layers["classifier"] = nn.Sequential(head)
        super().__init__(layers)
        # a hook rather than an overridden forward keeps the model a plain chain that torch.fx can trace
        self.register_forward_pre_hook(self._check_input)

    # ---- argument checks ------------------------------------------------------------------------------

    @staticmethod
    def _check_padding(padding):
        if isinstance(padding, str):
            word = padding.lower()
            if word not in ("same", "valid"):
                raise ValueError(
                    f"padding must be an int, an (h, w) pair, 'same' or 'valid', got {padding!r}"
                    + (
                        " ('full' padding is for the from-scratch ops; nn.Conv2d has no such mode)"
                        if word == "full"
                        else ""
                    )
                )
            return word
        return _int_pair("padding", padding, minimum=0)

    @staticmethod
    def _check_pool(pool, blocks: int) -> tuple[int | None, ...]:
        def one(name, value):
            if value is None:
                return None
            value = check_int(name, value)
            return None if value == 1 else value

        if isinstance(pool, Sequence) and not isinstance(pool, (str, bytes)):
            if len(pool) != blocks:
                raise ValueError(
                    f"pool has {len(pool)} entr{'y' if len(pool) == 1 else 'ies'} but there are {blocks} conv "
                    f"blocks (conv_channels); give one entry per block, or a single int for all of them"
                )
            return tuple(one(f"pool[{i}]", p) for i, p in enumerate(pool))
        if pool is not None and (isinstance(pool, bool) or not isinstance(pool, numbers.Integral)):
            raise TypeError(f"pool must be an int, None, or one int/None per block, got {pool!r}")
        return (one("pool", pool),) * blocks

    @staticmethod
    def _check_activation(activation) -> Callable[[], nn.Module]:
        if isinstance(activation, nn.Module):  # an instance: each layer gets its own copy

            def make() -> nn.Module:
                return copy.deepcopy(activation)

            return make
        if not callable(activation):
            raise TypeError(f"activation must be an nn.Module class such as nn.ReLU, got {activation!r}")
        try:
            sample = activation()
        except TypeError as error:
            raise TypeError(
                f"activation must be called with no arguments to make each layer's nonlinearity, like the class "
                f"nn.ReLU; calling {getattr(activation, '__name__', activation)}() failed ({error}). For torch.relu "
                f"or F.relu pass nn.ReLU"
            ) from None
        if not isinstance(sample, nn.Module):
            raise TypeError(
                f"activation() must return an nn.Module (e.g. activation=nn.ReLU), but it returned "
                f"{type(sample).__name__}; for torch.relu use nn.ReLU"
            )
        return activation

    # ---- shapes -------------------------------------------------------------------------------------------

    def _conv_size(self, hw: tuple[int, int]) -> tuple[int, int]:
        """(H, W) after one of the convolutions, by :func:`~cnn_lessons.arithmetic.conv_output_size`."""
        pads = (self.padding, self.padding) if isinstance(self.padding, str) else self.padding
        return tuple(conv_output_size(s, k, padding=p) for s, k, p in zip(hw, self.kernel_size, pads, strict=True))

    @staticmethod
    def _pool_size(hw: tuple[int, int], window: int) -> tuple[int, int]:
        """(H, W) after a ``window`` x ``window`` max-pool, by :func:`~cnn_lessons.arithmetic.pool_output_size`."""
        return tuple(pool_output_size(s, window) for s in hw)

    def _compute_trace(self) -> list[tuple[str, tuple[int, ...]]]:
        """Every layer's output shape, from the arithmetic module; raises with a hint if a map vanishes."""
        trace: list[tuple[str, tuple[int, ...]]] = [("input", (self.in_channels, *self.input_size))]
        channels, hw = self.in_channels, self.input_size
        kh, kw = self.kernel_size
        for index, (out_channels, window) in enumerate(zip(self.conv_channels, self.pools, strict=True), start=1):
            try:
                new_hw = self._conv_size(hw)
            except ValueError as error:
                padding = self.padding
                if not isinstance(padding, str) and padding[0] == padding[1]:
                    padding = padding[0]
                raise self._vanished(index, f"{kh}x{kw} convolution (padding {padding!r})", hw, error) from None
            channels, hw = out_channels, new_hw
            trace += [(f"block{index}.conv", (channels, *hw)), (f"block{index}.act", (channels, *hw))]
            if window is not None:
                try:
                    hw = self._pool_size(hw, window)
                except ValueError as error:
                    raise self._vanished(index, f"{window}x{window} max-pool", hw, error) from None
                trace.append((f"block{index}.pool", (channels, *hw)))
        if self.global_pooling is not None:
            hw = (1, 1)
            trace.append(("global_pool", (channels, 1, 1)))
        features = channels * hw[0] * hw[1]
        trace.append(("flatten", (features,)))
        for index, width in enumerate(self.hidden, start=1):
            trace += [(f"classifier.fc{index}", (width,)), (f"classifier.act{index}", (width,))]
        trace.append(("classifier.out", (self.num_classes,)))
        return trace

    def _smallest_input(self, axis: int) -> int:
        """The smallest input length along ``axis`` (0: height, 1: width) that all the conv blocks fit.

        Worked backwards from one output position: a p-window max-pool needs p times the positions after
        it, and a convolution needs k - 1 more than it makes, less the padding it adds.
        """
        kernel = self.kernel_size[axis]
        if self.padding == "same":
            total_padding = kernel - 1
        elif self.padding == "valid":
            total_padding = 0
        else:
            total_padding = 2 * self.padding[axis]
        needed = 1
        for window in reversed(self.pools):
            if window is not None:
                needed *= window
            needed = max(1, needed + kernel - 1 - total_padding)
        return needed

    def _blocks_that_fit(self, pools: Sequence[int | None] | None = None) -> int:
        """How many of the conv blocks, from the first, leave a non-empty feature map (with ``pools`` if given)."""
        hw = self.input_size
        for count, window in enumerate(self.pools if pools is None else pools):
            try:
                hw = self._conv_size(hw)
                if window is not None:
                    hw = self._pool_size(hw, window)
            except ValueError:
                return count
        return len(self.pools)

    def _vanished(self, index: int, layer: str, hw: tuple[int, int], error: ValueError) -> ValueError:
        """The error for block ``index``'s ``layer`` getting a map of ``hw`` too small for it, with fixes."""
        fit = self._blocks_that_fit()
        ideas = []
        if fit:
            ideas.append(f"at most {fit} conv block{'s' if fit != 1 else ''} for this input size")
        if self.padding != "same":
            ideas.append("padding='same' (each convolution then keeps the size)")
        blocks = len(self.pools)
        for first in range(index, 0, -1):  # drop the pooling from block `first` on, as late as will do
            pools = self.pools[: first - 1] + (None,) * (blocks - first + 1)
            if pools != self.pools and self._blocks_that_fit(pools) == blocks:
                if first == 1:
                    ideas.append("pool=None (no pooling)")
                else:
                    pool_text = ", ".join("None" if p is None else str(p) for p in pools)
                    ideas.append(f"pool=({pool_text}) (no pooling from block {first} on)")
                break
        smallest = (self._smallest_input(0), self._smallest_input(1))
        ideas.append(f"an input_size of at least {_size(smallest)}")
        if hw == self.input_size and index == 1 and "convolution" in layer:
            gets = f"gets the {_size(hw)} input"
        else:
            gets = f"gets a {_size(hw)} feature map (from the {_size(self.input_size)} input)"
        return ValueError(
            f"block {index}'s {layer} {gets}, too small for it: {error}. What would work: " + "; or ".join(ideas) + "."
        )

    def _trace_lookup(self, name: str) -> tuple[int, ...]:
        return dict(self._trace)[name]

    def shape_trace(self) -> list[tuple[str, tuple[int, ...]]]:
        """``[(layer name, output shape), ...]`` from the input to the logits, computed with arithmetic.

        Shapes leave out the batch axis: (C, H, W) for feature maps, (features,) after the flatten. Names
        are those of ``named_modules()`` (``"block1.conv"``, ``"classifier.out"``), plus ``"input"`` first.
        """
        return list(self._trace)

    def shape_table(self) -> str:
        """The shape trace as a text table, with each layer's parameter count worked out by formula."""
        rows, total = [], 0
        previous: tuple[int, ...] = ()
        for name, shape in self._trace:
            params = 0
            if name.endswith(".conv"):
                params = conv_parameter_count(previous[0], shape[0], self.kernel_size)
            elif name.startswith("classifier.fc") or name == "classifier.out":
                params = (previous[0] + 1) * shape[0]
            total += params
            rows.append((name, " x ".join(map(str, shape)), f"{params:,}" if params else ""))
            previous = shape
        rows.append(("total", "", f"{total:,}"))
        widths = [max(len(r[i]) for r in rows + [("layer", "output shape", "parameters")]) for i in range(3)]
        lines = [f"{'layer':<{widths[0]}}  {'output shape':<{widths[1]}}  {'parameters':>{widths[2]}}"]
        lines.append("-" * len(lines[0]))
        lines += [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows]
        return "\n".join(lines)

    def _check_input(self, module: nn.Module, args: tuple) -> None:
        """Forward pre-hook: explain an input of the wrong shape before a layer fails on it."""
        (x,) = args[:1]
        expected = self._trace[0][1]
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(
                f"this SimpleCNN was built for batches of shape (N, {', '.join(map(str, expected))}) "
                f"(in_channels={self.in_channels}, input_size={_size(self.input_size)}; its flatten size "
                f"{self.flatten_size} depends on them), got {tuple(x.shape)}"
            )

    def extra_repr(self) -> str:
        return f"flatten_size={self.flatten_size}"
