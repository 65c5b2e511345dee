"""The block diagrams of lesson 04's building blocks as specs for :mod:`cnn_lessons.drawing.diagrams`.

Each ``*_spec`` function describes one block of :mod:`cnn_lessons.models` (layers, shapes, merges) with the
sizes of the paper's example; :data:`BLOCK_DIAGRAMS` names them for the lesson and for ``assets/figures``."""

from __future__ import annotations

from cnn_lessons.drawing.diagrams import DIAGRAM_X, DiagramEdge, DiagramNode, DiagramSpec

__all__ = [
    "basic_block_spec",
    "bottleneck_spec",
    "inception_spec",
    "dense_block_spec",
    "depthwise_separable_spec",
    "inverted_residual_se_spec",
    "convnext_block_spec",
    "BLOCK_DIAGRAMS",
]


def _diagram_tensor(channels: int, size: int | None) -> str:
    return f"{channels} ch, {size}{DIAGRAM_X}{size}" if size else f"{channels} ch"


def _diagram_kernel(kernel_size: int) -> str:
    return f"{kernel_size}{DIAGRAM_X}{kernel_size}"


def basic_block_spec(channels: int = 64, size: int = 56) -> DiagramSpec:
    """ResNet's basic block (``models.BasicBlock(channels, channels)``): two 3x3 convs and the identity."""
    n, e = DiagramNode, DiagramEdge
    return DiagramSpec(
        f"Residual basic block (ResNet-18), {channels} channels",
        (
            n("x", "io", f"x: {_diagram_tensor(channels, size)}"),
            n("conv1", "conv", f"3{DIAGRAM_X}3 conv, {channels}", "BN, ReLU", row=1),
            n("conv2", "conv", f"3{DIAGRAM_X}3 conv, {channels}", "BN", row=2),
            n("add", "add", "then ReLU", row=3),
            n("out", "io", _diagram_tensor(channels, size), row=4),
        ),
        (
            e("x", "conv1"),
            e("conv1", "conv2"),
            e("conv2", "add"),
            e("add", "out"),
            e("x", "add", "skip", shortcut=True, label="identity"),
        ),
    )


def bottleneck_spec(in_channels: int = 64, width: int = 64, stride: int = 1, size: int = 56) -> DiagramSpec:
    """ResNet's bottleneck (``models.Bottleneck(in_channels, width, stride)``): 1x1 down, 3x3, 1x1 up to 4*width.

    With a stride or a change of channels the shortcut is a 1x1 projection (drawn in a second column),
    otherwise the identity.
    """
    out = 4 * width
    out_size = -(-size // stride) if size else None
    s = f", stride {stride}" if stride != 1 else ""
    n, e = DiagramNode, DiagramEdge
    nodes = [
        n("x", "io", f"x: {_diagram_tensor(in_channels, size)}"),
        n("conv1", "conv", f"1{DIAGRAM_X}1 conv, {width}", "reduce; BN, ReLU", row=1),
        n("conv2", "conv", f"3{DIAGRAM_X}3 conv, {width}{s}", "BN, ReLU", row=2),
        n("conv3", "conv", f"1{DIAGRAM_X}1 conv, {out}", "expand; BN", row=3),
        n("add", "add", "then ReLU", row=4),
        n("out", "io", _diagram_tensor(out, out_size), row=5),
    ]
    edges = [e("x", "conv1"), e("conv1", "conv2"), e("conv2", "conv3"), e("conv3", "add"), e("add", "out")]
    if stride != 1 or in_channels != out:
        nodes.append(n("proj", "conv", f"1{DIAGRAM_X}1 conv, {out}{s}", "projection; BN", col=1, row=2))
        edges += [e("x", "proj", shortcut=True), e("proj", "add", "side", shortcut=True)]
    else:
        edges.append(e("x", "add", "skip", shortcut=True, label="identity"))
    return DiagramSpec(
        f"Bottleneck block (ResNet-50), {in_channels} {chr(8594)} {out} channels", tuple(nodes), tuple(edges)
    )


def inception_spec(
    in_channels: int = 192,
    ch1x1: int = 64,
    ch3x3red: int = 96,
    ch3x3: int = 128,
    ch5x5red: int = 16,
    ch5x5: int = 32,
    pool_proj: int = 32,
    size: int = 28,
) -> DiagramSpec:
    """GoogLeNet's Inception module (``models.Inception``; default: module 3a): four branches, concatenated.

    As in ``models.Inception`` (and torchvision), the "5x5" branch uses a 3x3 kernel; every conv has BN + ReLU.
    """
    out = ch1x1 + ch3x3 + ch5x5 + pool_proj
    n, e = DiagramNode, DiagramEdge
    nodes = (
        n("x", "io", f"x: {_diagram_tensor(in_channels, size)}", col=1.5, span=4),
        n("b1", "conv", f"1{DIAGRAM_X}1 conv, {ch1x1}", col=0, row=1),
        n("b2a", "conv", f"1{DIAGRAM_X}1 conv, {ch3x3red}", "reduce", col=1, row=1),
        n("b2b", "conv", f"3{DIAGRAM_X}3 conv, {ch3x3}", col=1, row=2),
        n("b3a", "conv", f"1{DIAGRAM_X}1 conv, {ch5x5red}", "reduce", col=2, row=1),
        n("b3b", "conv", f"3{DIAGRAM_X}3 conv, {ch5x5}", "the paper's 5\u00d75", col=2, row=2),
        n("b4a", "pool", f"3{DIAGRAM_X}3 max pool", "stride 1, keeps the size", col=3, row=1),
        n("b4b", "conv", f"1{DIAGRAM_X}1 conv, {pool_proj}", "projection", col=3, row=2),
        n("cat", "concat", f"concat: {ch1x1} + {ch3x3} + {ch5x5} + {pool_proj} = {out} ch", col=1.5, row=3, span=4),
        n("out", "io", _diagram_tensor(out, size), col=1.5, row=4, span=4),
    )
    edges = (
        e("x", "b1"),
        e("x", "b2a"),
        e("x", "b3a"),
        e("x", "b4a"),
        e("b1", "cat"),
        e("b2a", "b2b"),
        e("b2b", "cat"),
        e("b3a", "b3b"),
        e("b3b", "cat"),
        e("b4a", "b4b"),
        e("b4b", "cat"),
        e("cat", "out"),
    )
    return DiagramSpec("Inception module (GoogLeNet 3a); every conv: BN, ReLU", nodes, edges)


def dense_block_spec(
    in_channels: int = 64, growth_rate: int = 32, bn_size: int = 4, num_layers: int = 2, size: int = 56
) -> DiagramSpec:
    """A DenseNet-BC dense block (``models.DenseBlock``) followed by a transition (``models.Transition``).

    Each dense layer (BN, ReLU, 1x1 conv to bn_size*growth; BN, ReLU, 3x3 conv to growth) appends its
    ``growth_rate`` new channels to everything before it; the transition halves channels and size.
    """
    n, e = DiagramNode, DiagramEdge
    wide = bn_size * growth_rate
    nodes = [n("x", "io", f"x: {_diagram_tensor(in_channels, size)}")]
    edges = []
    previous, channels = "x", in_channels
    for i in range(1, num_layers + 1):
        row = 3 * i - 2
        nodes += [
            n(f"l{i}a", "conv", f"1{DIAGRAM_X}1 conv, {wide}", "after BN, ReLU", row=row),
            n(f"l{i}b", "conv", f"3{DIAGRAM_X}3 conv, {growth_rate}", "after BN, ReLU", row=row + 1),
            n(f"cat{i}", "concat", f"concat: {channels} + {growth_rate} = {channels + growth_rate} ch", row=row + 2),
        ]
        edges += [
            e(previous, f"l{i}a"),
            e(f"l{i}a", f"l{i}b"),
            e(f"l{i}b", f"cat{i}"),
            e(previous, f"cat{i}", "skip", shortcut=True, label="copy"),
        ]
        previous, channels = f"cat{i}", channels + growth_rate
    half, row = channels // 2, 3 * num_layers + 1
    half_size = size // 2 if size else None
    nodes += [
        n("t_conv", "conv", f"1{DIAGRAM_X}1 conv, {half}", "transition; after BN, ReLU", row=row),
        n("t_pool", "pool", f"2{DIAGRAM_X}2 avg pool, stride 2", row=row + 1),
        n("out", "io", _diagram_tensor(half, half_size), row=row + 2),
    ]
    edges += [e(previous, "t_conv"), e("t_conv", "t_pool"), e("t_pool", "out")]
    return DiagramSpec(
        f"Dense block ({num_layers} layers, growth {growth_rate}) + transition", tuple(nodes), tuple(edges)
    )


def depthwise_separable_spec(in_channels: int = 32, out_channels: int = 64, size: int = 112) -> DiagramSpec:
    """MobileNet's depthwise separable conv (``models.DepthwiseSeparableConv``) beside the 3x3 conv it replaces."""
    n, e = DiagramNode, DiagramEdge
    nodes = (
        n("x0", "io", f"standard: {_diagram_tensor(in_channels, size)}"),
        n("conv", "conv", f"3{DIAGRAM_X}3 conv, {out_channels}", f"each filter sees all {in_channels} ch", row=1.5),
        n("out0", "io", _diagram_tensor(out_channels, size), row=3),
        n("x", "io", f"separable: {_diagram_tensor(in_channels, size)}", col=1),
        n(
            "dw",
            "dwconv",
            f"3{DIAGRAM_X}3 depthwise conv, {in_channels}",
            "one filter per channel; BN, ReLU",
            col=1,
            row=1,
        ),
        n("pw", "conv", f"1{DIAGRAM_X}1 conv, {out_channels}", "pointwise: mixes channels; BN, ReLU", col=1, row=2),
        n("out", "io", _diagram_tensor(out_channels, size), col=1, row=3),
    )
    edges = (e("x0", "conv"), e("conv", "out0"), e("x", "dw"), e("dw", "pw"), e("pw", "out"))
    return DiagramSpec("Standard 3\u00d73 conv vs depthwise separable conv (MobileNet)", nodes, edges)


def inverted_residual_se_spec(
    in_channels: int = 24,
    out_channels: int = 24,
    kernel_size: int = 3,
    expand_ratio: int = 6,
    se_ratio: float = 0.25,
    stride: int = 1,
    size: int = 56,
) -> DiagramSpec:
    """EfficientNet's MBConv (``models.MBConv``): MobileNetV2's inverted residual with squeeze-excitation.

    Expand 1x1 (narrow to wide), depthwise k x k, squeeze-excitation gate, project 1x1 (wide to narrow, no
    activation); the input is added back when stride is 1 and the channels match. Activation: SiLU.
    """
    hidden = in_channels * expand_ratio
    squeeze = max(1, int(in_channels * se_ratio))
    s = f", stride {stride}" if stride != 1 else ""
    out_size = -(-size // stride) if size else None
    n, e = DiagramNode, DiagramEdge
    residual = stride == 1 and in_channels == out_channels
    nodes = [
        n("x", "io", f"x: {_diagram_tensor(in_channels, size)}"),
        n("expand", "conv", f"1{DIAGRAM_X}1 conv, {hidden}", f"expand {DIAGRAM_X}{expand_ratio}; BN, SiLU", row=1),
        n("dw", "dwconv", f"{_diagram_kernel(kernel_size)} depthwise conv, {hidden}{s}", "BN, SiLU", row=2),
        n("pool", "pool", "global avg pool", f"{hidden} numbers", col=1, row=3),
        n("fc1", "conv", f"1{DIAGRAM_X}1 conv, {squeeze}", "squeeze; SiLU", col=1, row=4),
        n("fc2", "conv", f"1{DIAGRAM_X}1 conv, {hidden}", "sigmoid: one gate per channel", col=1, row=5),
        n("scale", "mul", row=5),
        n("project", "conv", f"1{DIAGRAM_X}1 conv, {out_channels}", "project; BN, no activation", row=6),
    ]
    edges = [
        e("x", "expand"),
        e("expand", "dw"),
        e("dw", "pool"),
        e("pool", "fc1"),
        e("fc1", "fc2"),
        e("fc2", "scale", "side"),
        e("dw", "scale"),
        e("scale", "project"),
    ]
    if residual:
        nodes += [n("add", "add", row=7), n("out", "io", _diagram_tensor(out_channels, out_size), row=8)]
        edges += [e("project", "add"), e("add", "out"), e("x", "add", "skip", shortcut=True, label="identity")]
    else:
        nodes.append(n("out", "io", _diagram_tensor(out_channels, out_size), row=7))
        edges.append(e("project", "out"))
    return DiagramSpec(
        f"MBConv: inverted residual + squeeze-excitation, {in_channels} ch",
        tuple(nodes),
        tuple(edges),
        groups=(("squeeze-and-excitation", ("pool", "fc1", "fc2")),),
    )


def convnext_block_spec(dim: int = 96, size: int = 56) -> DiagramSpec:
    """The ConvNeXt block (``models.ConvNeXtBlock``): 7x7 depthwise, LayerNorm, 1x1 up 4x, GELU, 1x1 down."""
    n, e = DiagramNode, DiagramEdge
    nodes = (
        n("x", "io", f"x: {_diagram_tensor(dim, size)}"),
        n("dw", "dwconv", f"7{DIAGRAM_X}7 depthwise conv, {dim}", "mixes space, per channel", row=1),
        n("norm", "norm", "LayerNorm", "over the channels, at each pixel", row=2),
        n("pw1", "conv", f"1{DIAGRAM_X}1 conv, {4 * dim}", "expand 4\u00d7; GELU", row=3),
        n("pw2", "conv", f"1{DIAGRAM_X}1 conv, {dim}", "project back", row=4),
        n("gamma", "norm", "layer scale \u03b3", f"{dim} weights, start at 1e\u22126", row=5),
        n("add", "add", row=6),
        n("out", "io", _diagram_tensor(dim, size), row=7),
    )
    edges = (
        e("x", "dw"),
        e("dw", "norm"),
        e("norm", "pw1"),
        e("pw1", "pw2"),
        e("pw2", "gamma"),
        e("gamma", "add"),
        e("add", "out"),
        e("x", "add", "skip", shortcut=True, label="identity"),
    )
    return DiagramSpec(f"ConvNeXt block, {dim} channels", nodes, edges)


BLOCK_DIAGRAMS = {
    "basic": basic_block_spec,
    "bottleneck": bottleneck_spec,
    "inception": inception_spec,
    "dense": dense_block_spec,
    "depthwise_separable": depthwise_separable_spec,
    "inverted_residual_se": inverted_residual_se_spec,
    "convnext": convnext_block_spec,
}
"""Every block diagram's spec function by name; each called with no arguments gives the lesson's example."""
