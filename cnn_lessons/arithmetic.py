"""Convolution arithmetic: output sizes, padding, receptive fields and parameter counts.

Pure integer functions with PyTorch's semantics, so a lesson can state a shape before torch computes it.
Nothing here needs torch to be called (an ``nn.Module`` is accepted by :func:`receptive_field` only).

Every function checks its input and explains a mistake with the numbers involved, e.g.::

    >>> conv_output_size(5, 3, dilation=4)
    Traceback (most recent call last):
    ...
    ValueError: a kernel of 3 with dilation 4 spans 9 positions, but the padded input has only 5 ...
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

__all__ = [
    "conv_output_size",
    "same_padding",
    "resolve_padding",
    "effective_kernel_size",
    "pool_output_size",
    "conv_transpose_output_size",
    "receptive_field",
    "conv_parameter_count",
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


def _layers_from_module(module) -> list[tuple[int, int, int]]:
    """Read (kernel, stride, dilation) from a chain of conv and pooling layers in an ``nn.Module``."""
    import torch.nn as nn

    conv_like = (nn.modules.conv._ConvNd, nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd)
    layers = []
    for name, sub in module.named_modules():
        children = list(sub.children())
        if children and not isinstance(sub, nn.Sequential):
            raise TypeError(
                f"receptive_field reads an nn.Module as a chain of layers, but {name or 'the model'} is a "
                f"{type(sub).__name__} whose forward may branch; pass a list of (kernel_size, stride, "
                f"dilation) tuples for the path you mean instead"
            )
        if isinstance(sub, conv_like):
            if isinstance(sub, nn.modules.conv._ConvNd) and sub.transposed:
                raise TypeError(f"receptive_field does not handle transposed convolutions ({name})")
            k, s = _first(sub.kernel_size), _first(sub.stride)
            d = _first(getattr(sub, "dilation", 1))
            layers.append((k, s, d))
    return layers


def _first(value) -> int:
    return value[0] if isinstance(value, tuple) else value


def receptive_field(layers) -> int:
    """Receptive field (in input positions) of one output position after a stack of layers.

    ``layers``: ``(kernel_size, stride)`` or ``(kernel_size, stride, dilation)`` tuples, first layer first, or
    an ``nn.Module`` that is a chain (``nn.Sequential``) of layers. Each layer widens the field by
    d*(k-1) times the product of the strides before it: r = 1 + sum_l d_l (k_l - 1) prod_{m<l} s_m.
    """
    if hasattr(layers, "named_modules"):
        layers = _layers_from_module(layers)
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
