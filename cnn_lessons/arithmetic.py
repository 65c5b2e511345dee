"""Convolution arithmetic: output sizes, padding, receptive fields and parameter counts.

Pure integer functions with PyTorch's semantics, so a lesson can state a shape before torch computes it.
Torch is called only on an ``nn.Module`` (:func:`receptive_field` traces one, :func:`multiply_adds` runs one).

Every function checks its input and explains a mistake with the numbers involved, e.g.::

    >>> conv_output_size(5, 3, dilation=4)
    Traceback (most recent call last):
    ...
    ValueError: a kernel of 3 with dilation 4 spans 9 positions, but the padded input has only 5 ...
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch
import torch.fx
import torch.nn as nn

__all__ = [
    "conv_output_size",
    "same_padding",
    "resolve_padding",
    "effective_kernel_size",
    "pool_output_size",
    "conv_transpose_output_size",
    "receptive_field",
    "conv_parameter_count",
    "multiply_adds",
]

PADDING_WORDS = ("valid", "same", "full")


def check_int(name: str, value, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise a TypeError/ValueError that names it and says what would work."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {value!r} ({type(value).__name__})")
    value = int(value)
    if value < minimum:
        bound = "positive (at least 1)" if minimum == 1 else f"at least {minimum}"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def effective_kernel_size(kernel_size: int, dilation: int = 1) -> int:
    """Positions a dilated kernel spans: d*(k-1) + 1 (its taps plus the gaps between them)."""
    kernel_size = check_int("kernel_size", kernel_size)
    dilation = check_int("dilation", dilation)
    return dilation * (kernel_size - 1) + 1


def same_padding(kernel_size: int, dilation: int = 1) -> tuple[int, int]:
    """The zero padding (left, right) torch adds for ``padding="same"``.

    The total is d*(k-1), so that a stride-1 output keeps the input size; torch puts the smaller half on the
    left (``total // 2``) and the rest on the right, so an even total is split evenly and an odd one is not.
    """
    total = effective_kernel_size(kernel_size, dilation) - 1
    return total // 2, total - total // 2


def resolve_padding(padding, kernel_size: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """Turn ``padding`` (an int, ``"valid"``, ``"same"`` or ``"full"``) into (left, right) zero counts."""
    if isinstance(padding, str):
        word = padding.lower()
        if word == "valid":
            return 0, 0
        if word == "same":
            stride = check_int("stride", stride)
            if stride != 1:
                raise ValueError(
                    f"padding='same' needs stride 1, got stride {stride}: with stride {stride} the output "
                    f"is about 1/{stride} of the input whatever the padding, so no padding keeps the size "
                    f"the same (torch refuses it too). Use an int padding, e.g. padding="
                    f"{same_padding(kernel_size, dilation)[0]}, or stride=1."
                )
            return same_padding(kernel_size, dilation)
        if word == "full":
            total = effective_kernel_size(kernel_size, dilation) - 1
            return total, total
        raise ValueError(f"padding must be an int or one of {PADDING_WORDS}, got {padding!r}")
    padding = check_int("padding", padding, minimum=0)
    return padding, padding


def _check_fits(size: int, span: int, padded: int, kernel_size: int, dilation: int, what: str = "kernel"):
    if span > padded:
        spread = f"a {what} of {kernel_size}" + (f" with dilation {dilation}" if dilation != 1 else "")
        raise ValueError(
            f"{spread} spans {span} positions, but the padded input has only {padded} "
            f"(input {size} plus padding {padded - size}); use a smaller kernel or dilation, or pad at "
            f"least {span - size} in total"
        )


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding=0, dilation: int = 1) -> int:
    """Output length of a convolution along one axis, as ``nn.Conv1d/2d/3d`` computes it.

    o = floor((i + p_left + p_right - d*(k-1) - 1) / s) + 1, where d*(k-1) + 1 is the effective kernel size.
    ``padding`` may be an int (both sides), ``"valid"`` (0), ``"same"`` (stride 1 only) or ``"full"``.
    """
    size = check_int("size", size)
    kernel_size = check_int("kernel_size", kernel_size)
    stride = check_int("stride", stride)
    dilation = check_int("dilation", dilation)
    left, right = resolve_padding(padding, kernel_size, stride, dilation)
    padded = size + left + right
    span = effective_kernel_size(kernel_size, dilation)
    _check_fits(size, span, padded, kernel_size, dilation)
    return (padded - span) // stride + 1


def pool_output_size(
    size: int,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output length of max pooling along one axis, as ``nn.MaxPool1d/2d`` computes it.

    ``stride`` defaults to ``kernel_size``. With ``ceil_mode`` the division rounds up, but a window that
    would start entirely in the right padding is dropped (torch's rule). Average pooling has no dilation;
    with dilation 1 the sizes agree with ``nn.AvgPool2d``.
    """
    size = check_int("size", size)
    kernel_size = check_int("kernel_size", kernel_size)
    stride = kernel_size if stride is None else check_int("stride", stride)
    padding = check_int("padding", padding, minimum=0)
    dilation = check_int("dilation", dilation)
    if padding > kernel_size // 2:
        raise ValueError(
            f"pooling padding must be at most half the kernel size (kernel_size // 2 = {kernel_size // 2}), "
            f"got padding {padding}: a window could then hold only padding"
        )
    span = effective_kernel_size(kernel_size, dilation)
    padded = size + 2 * padding
    if ceil_mode:
        out = -(-(padded - span) // stride) + 1
        if (out - 1) * stride >= size + padding:  # the last window would start in the right padding
            out -= 1
    else:
        out = (padded - span) // stride + 1
    if out < 1:
        rounding = "rounding up (ceil_mode)" if ceil_mode else "rounding down"
        spread = f"a pooling window of {kernel_size}" + (f" with dilation {dilation}" if dilation != 1 else "")
        raise ValueError(
            f"{spread} spans {span} positions, but the padded input has only {padded} (input {size} plus "
            f"padding {2 * padding}), so {rounding} leaves no output; use a smaller window or a larger input"
        )
    return out


def conv_transpose_output_size(
    size: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Output length of a transposed convolution, as ``nn.ConvTranspose1d/2d`` computes it.

    o = (i - 1)*s - 2p + d*(k-1) + output_padding + 1. ``output_padding`` picks one of the ``s`` input sizes
    that a stride-``s`` convolution maps to the same output, so it must be smaller than stride or dilation.
    """
    size = check_int("size", size)
    kernel_size = check_int("kernel_size", kernel_size)
    stride = check_int("stride", stride)
    padding = check_int("padding", padding, minimum=0)
    output_padding = check_int("output_padding", output_padding, minimum=0)
    dilation = check_int("dilation", dilation)
    if output_padding >= max(stride, dilation):
        raise ValueError(
            f"output_padding must be smaller than stride or dilation (here max({stride}, {dilation}) = "
            f"{max(stride, dilation)}), got {output_padding}"
        )
    out = (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    if out < 1:
        raise ValueError(
            f"a transposed convolution of input {size}, kernel {kernel_size}, stride {stride}, dilation "
            f"{dilation} and output_padding {output_padding} makes {out + 2 * padding} positions before "
            f"cropping, and padding {padding} crops {2 * padding} of them, leaving {out}; use padding at "
            f"most {(out + 2 * padding - 1) // 2}"
        )
    return out


def _window(module):
    """(kernel, stride, dilation) of a sliding-window layer along its first spatial axis, else None."""
    if isinstance(module, nn.modules.conv._ConvNd):
        if module.transposed:
            raise TypeError(f"receptive_field does not handle transposed convolutions ({module})")
        return _first(module.kernel_size), _first(module.stride), _first(module.dilation)
    if isinstance(module, (nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd)):
        stride = module.stride if module.stride is not None else module.kernel_size
        return _first(module.kernel_size), _first(stride), _first(getattr(module, "dilation", 1))
    return None


def _first(value) -> int:
    return value[0] if isinstance(value, (tuple, list)) else value


def _is_global(module) -> bool:
    """Layers after which positions no longer exist: adaptive pooling and flattening.

    (A linear layer is not one of them: ConvNeXt applies its 1x1 layers as ``nn.Linear`` on channels-last maps.)
    """
    return isinstance(
        module, (nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd, nn.Flatten)
    )


def _model_receptive_field(model) -> int:
    """Largest receptive field of any position of the model's spatial feature maps (before global pooling).

    The model is traced with ``torch.fx``; (field, jump) flows through the graph: a conv or pooling layer widens
    the field by d*(k-1)*jump and multiplies the jump by its stride, a merge (addition, concatenation,
    multiplication) keeps the widest of its inputs, and anything else passes its input's through. Global context
    (squeeze-and-excitation's channel gates, pooled over the whole map) is not counted as widening the field.
    """
    try:
        graph = torch.fx.symbolic_trace(model).graph
    except Exception as error:  # fx raises many kinds of errors for untraceable forward methods
        raise TypeError(
            f"receptive_field could not trace {type(model).__name__} with torch.fx ({error}); pass a list of "
            f"(kernel_size, stride, dilation) tuples for the path you mean instead"
        ) from None
    modules = dict(model.named_modules())
    state: dict = {}  # node -> (field, jump), or None once positions are gone
    widest = 1
    global_functions = {torch.flatten, torch.nn.functional.adaptive_avg_pool2d}
    for node in graph.nodes:
        inputs = [state[n] for n in node.all_input_nodes if n in state]
        spatial = [value for value in inputs if value is not None]
        if node.op == "placeholder":
            state[node] = (1, 1)
            continue
        if node.op == "output":
            break
        if not spatial:  # only position-free inputs (after global pooling), or constants
            state[node] = None if inputs else (1, 1)
            continue
        field, jump = max(spatial)  # a merge keeps its widest input; global context (SE gates) adds nothing
        module = modules.get(node.target) if node.op == "call_module" else None
        if module is not None and _is_global(module):
            state[node] = None
        elif node.op == "call_function" and node.target in global_functions:
            state[node] = None
        elif node.op == "call_method" and node.target == "flatten":
            state[node] = None
        elif module is not None and (window := _window(module)) is not None:
            kernel, stride, dilation = window
            state[node] = (field + dilation * (kernel - 1) * jump, jump * stride)
        else:
            state[node] = (field, jump)
        if state[node] is not None:
            widest = max(widest, state[node][0])
    return widest


def receptive_field(layers) -> int:
    """Receptive field (in input positions) of one output position after a stack of layers.

    ``layers``: ``(kernel_size, stride)`` or ``(kernel_size, stride, dilation)`` tuples, first layer first. Each
    layer widens the field by d*(k-1) times the product of the strides before it:
    r = 1 + sum_l d_l (k_l - 1) prod_{m<l} s_m.

    An ``nn.Module`` is accepted too: the result is the widest receptive field of its last spatial feature map
    (before global pooling or flattening), following every branch of the model (see ``torch.fx``). Square
    kernels are assumed: the first spatial axis is read.
    """
    if hasattr(layers, "named_modules"):
        return _model_receptive_field(layers)
    if isinstance(layers, str) or not isinstance(layers, Sequence):
        raise TypeError(
            f"layers must be a sequence of (kernel_size, stride[, dilation]) tuples or an nn.Module, "
            f"got {type(layers).__name__}"
        )
    field, jump = 1, 1
    for index, layer in enumerate(layers):
        if not isinstance(layer, Sequence) or len(layer) not in (2, 3):
            raise TypeError(
                f"layer {index} must be a (kernel_size, stride) or (kernel_size, stride, dilation) tuple, got {layer!r}"
            )
        kernel_size = check_int(f"kernel_size of layer {index}", layer[0])
        stride = check_int(f"stride of layer {index}", layer[1])
        dilation = check_int(f"dilation of layer {index}", layer[2]) if len(layer) == 3 else 1
        field += dilation * (kernel_size - 1) * jump
        jump *= stride
    return field


def multiply_adds(model, input_size) -> int:
    """Multiply-adds of one forward pass of one input, counted over the conv and linear layers (the usual measure).

    A convolution does (in_channels/groups * kh * kw) multiply-adds for each output element, a linear layer
    ``in_features`` for each output. ``input_size`` is the shape of one input without the batch axis, e.g.
    ``(3, 224, 224)``. The model runs once on zeros, in eval mode, to see every layer's output size.
    """
    if isinstance(input_size, int) or not all(isinstance(n, int) and n > 0 for n in input_size):
        raise ValueError(f"input_size must be a shape of positive ints without the batch axis, got {input_size!r}")
    total = 0

    def count(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.modules.conv._ConvNd):
            per_output = module.in_channels // module.groups * math.prod(module.kernel_size)
            total += per_output * output.numel()
        elif isinstance(module, nn.Linear):
            total += module.in_features * output.numel()

    hooks = [
        m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear))
    ]
    was_training = model.training
    try:
        model.eval()
        parameter = next(model.parameters(), None)
        device = parameter.device if parameter is not None else "cpu"
        with torch.no_grad():
            model(torch.zeros(1, *input_size, device=device))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return total


def conv_parameter_count(in_channels: int, out_channels: int, kernel_size, bias: bool = True, groups: int = 1) -> int:
    """Learnable parameters of ``nn.Conv2d``: (in/groups * kh * kw + bias) * out.

    Each of the ``out`` kernels sees ``in/groups`` input channels through a kh x kw window, plus one bias.
    """
    in_channels = check_int("in_channels", in_channels)
    out_channels = check_int("out_channels", out_channels)
    groups = check_int("groups", groups)
    if isinstance(kernel_size, Sequence):
        if len(kernel_size) != 2:
            raise ValueError(f"kernel_size must be an int or a (kh, kw) pair, got {kernel_size!r}")
        kh, kw = (check_int("kernel_size", k) for k in kernel_size)
    else:
        kh = kw = check_int("kernel_size", kernel_size)
    for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
        if channels % groups:
            raise ValueError(
                f"{name} ({channels}) must be divisible by groups ({groups}): each group takes an equal "
                f"share of the channels"
            )
    return (in_channels // groups * kh * kw + int(bool(bias))) * out_channels
