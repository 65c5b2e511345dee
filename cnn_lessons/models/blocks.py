"""Building blocks of the classic CNNs: the idea each paper introduced, as an ``nn.Module``.

Each docstring names the paper, its arXiv id, and the block's parameter count as a formula you can check by
hand. A block whose forward is a plain chain of layers is an ``nn.Sequential`` subclass (``ConvBNAct``,
``DepthwiseSeparableConv``, ``Transition``); a block that branches or adds a shortcut has its own ``forward``.
"Stochastic depth" (randomly skipping a residual branch while training) has no parameters; MBConv and the
ConvNeXt block implement it, and it does nothing in ``eval()`` mode.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "ConvBNAct",
    "BasicBlock",
    "Bottleneck",
    "Inception",
    "DenseLayer",
    "DenseBlock",
    "Transition",
    "DepthwiseSeparableConv",
    "SeparableConv2d",
    "XceptionBlock",
    "InvertedResidual",
    "SqueezeExcitation",
    "MBConv",
    "LayerNorm2d",
    "ConvNeXtBlock",
]


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
    this needs 9*in + in*out. Xception's version has nothing between the halves: :class:`SeparableConv2d`.

    Parameters: 9*in + 2*in (depthwise + BN) + in*out + 2*out (pointwise + BN).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__(
            ConvBNAct(in_channels, in_channels, 3, stride=stride, groups=in_channels),
            ConvBNAct(in_channels, out_channels, 1),
        )
        self.in_channels, self.out_channels = in_channels, out_channels


class SeparableConv2d(nn.Sequential):
    """Xception's separable convolution: depthwise 3x3 (one filter per channel) then pointwise 1x1, no biases.

    Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions", CVPR 2017, arXiv:1610.02357 (as
    Keras's ``SeparableConv2D``). Unlike :class:`DepthwiseSeparableConv` (MobileNet's), there is no batch norm
    and no activation between the two halves (in the paper's section 4.7, training without one there converged
    faster and ended better), and none after: the model puts one batch norm after the pair. Padding 1 keeps the
    spatial size.

    Parameters: 9*in (depthwise) + in*out (pointwise).
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(
            nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels, bias=False),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
        )
        self.in_channels, self.out_channels = in_channels, out_channels


class XceptionBlock(nn.Module):
    """One block of Xception's entry, middle or exit flow: (ReLU, separable conv, BN) repeated, plus a shortcut.

    Chollet, CVPR 2017, arXiv:1610.02357, Figure 5. ``widths`` are the channels the block goes through, e.g.
    ``(728, 728, 728, 728)`` for a middle-flow block (three separable convs of 728) or ``(728, 728, 1024)`` for
    the exit flow's. Each step is ReLU, :class:`SeparableConv2d`, batch norm; the first block of the entry flow
    leaves out its first ReLU (``start_with_relu=False``: the stem just applied one). With ``stride=2`` a 3x3
    max pool (stride 2, padding 1) ends the branch and the shortcut is a 1x1 stride-2 conv + BN; otherwise the
    shortcut is the identity. The sum is returned without an activation (the next block begins with one).
    Batch norm uses ``eps`` (Keras's default 0.001, as in the reference).

    Parameters: the sum over steps a -> b of 9*a + a*b + 2*b [+ in*out + 2*out with the strided shortcut].
    """

    def __init__(self, widths, stride: int = 1, start_with_relu: bool = True, eps: float = 1e-3):
        super().__init__()
        widths = tuple(widths)
        if len(widths) < 2:
            raise ValueError(f"widths must list the input channels and at least one separable conv, got {widths}")
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 (identity shortcut) or 2 (max pool and 1x1 shortcut), got {stride}")
        self.in_channels, self.out_channels = widths[0], widths[-1]
        layers: list[nn.Module] = []
        for index, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            if index or start_with_relu:
                layers.append(nn.ReLU())
            layers += [SeparableConv2d(a, b), nn.BatchNorm2d(b, eps=eps)]
        if stride == 2:
            layers.append(nn.MaxPool2d(3, stride=2, padding=1))
        self.residual = nn.Sequential(*layers)
        self.shortcut = None
        if stride != 1 or widths[0] != widths[-1]:
            self.shortcut = nn.Sequential(
                nn.Conv2d(widths[0], widths[-1], 1, stride=stride, bias=False),
                nn.BatchNorm2d(widths[-1], eps=eps),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.shortcut is None else self.shortcut(x)
        return self.residual(x) + shortcut


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
