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

import contextlib
import functools
import math
import numbers
from collections.abc import Sequence

import torch
import torch.func
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
    "dense_parameter_count",
    "multiply_adds",
    "explain_shape_errors",
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
    if (window := _window(model)) is not None:  # one layer alone: fx would trace into its forward
        kernel, _, dilation = window
        return 1 + dilation * (kernel - 1)
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


# --- a forward pass whose shape errors teach ----------------------------------------------------------------

_AXES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}
_POOL_DIMS = {
    nn.MaxPool1d: 1, nn.MaxPool2d: 2, nn.MaxPool3d: 3, nn.AvgPool1d: 1, nn.AvgPool2d: 2, nn.AvgPool3d: 3,
}  # fmt: skip
_LARGEST_SIDE = 4096  # the largest square side searched for the input sizes a model takes


class _Running:
    """Hooks on every layer of a model that keep the layers started and not yet finished, innermost last."""

    def __init__(self, model):
        self.stack: list = []
        self.handles = []
        for name, module in model.named_modules():
            enter = functools.partial(self._enter, name or type(model).__name__)
            self.handles += [module.register_forward_pre_hook(enter), module.register_forward_hook(self._leave)]

    def _enter(self, name, module, args):
        first = next((a for a in args if isinstance(a, torch.Tensor)), None)
        self.stack.append((name, module, None if first is None else tuple(first.shape)))

    def _leave(self, module, args, output):
        self.stack.pop()

    def remove(self):
        for handle in self.handles:
            handle.remove()


def _each_axis(value, dims: int) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims


def _size_checks(module):
    """(spatial dims, one output-size function per axis) of a conv or pooling layer, else None."""
    if isinstance(module, nn.modules.conv._ConvNd) and not module.transposed:
        dims = len(module.kernel_size)
        axes = zip(module.kernel_size, module.stride, _each_axis(module.padding, dims), module.dilation, strict=True)
        return dims, [
            functools.partial(conv_output_size, kernel_size=k, stride=s, padding=p, dilation=d) for k, s, p, d in axes
        ]
    dims = next((d for kind, d in _POOL_DIMS.items() if isinstance(module, kind)), None)
    if dims is None:
        return None
    kernels = _each_axis(module.kernel_size, dims)
    strides = _each_axis(module.stride or module.kernel_size, dims)  # stride None: the window's size, as torch does
    paddings = _each_axis(module.padding, dims)
    dilations = _each_axis(getattr(module, "dilation", 1), dims)  # average pooling has none
    axes = zip(kernels, strides, paddings, dilations, strict=True)
    return dims, [
        functools.partial(pool_output_size, kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=module.ceil_mode)
        for k, s, p, d in axes
    ]


def _layer_problem(name: str, module, shape) -> tuple[str, str, int | None, int | None] | None:
    """(kind, sentence, channels it takes, spatial axes) when ``module`` cannot take an input of ``shape``, else None.

    kind: "rank" (a wrong number of axes), "channels", "small" (a window longer than its padded map), or
    "linear-small" / "linear-big" (a linear layer given fewer or more values than it takes).
    """
    layer = f"layer {name} ({module!r})"
    if shape is None:
        return None
    got = shape[-1] if shape else 0
    if isinstance(module, nn.Linear) and got != module.in_features:
        side = "small" if got < module.in_features else "big"
        return (
            f"linear-{side}",
            (
                f"{layer} takes {module.in_features} values per input, but the layers before it make {got} "
                f"(its input has shape {shape}); without a global pooling before it, a model takes only the input "
                f"sizes whose last feature map holds exactly {module.in_features} values"
            ),
            None,
            None,
        )
    checks = _size_checks(module)
    if checks is None:
        return None
    dims, sizes = checks
    if len(shape) not in (dims + 1, dims + 2):
        axes = ", ".join(axis[0].upper() for axis in _AXES[dims])
        return (
            "rank",
            (
                f"{layer} takes one input (C, {axes}) or a batch (N, C, {axes}), {dims + 1} or {dims + 2} axes, but "
                f"gets {len(shape)} axes, shape {shape}"
            ),
            None,
            dims,
        )
    wanted = getattr(module, "in_channels", None)
    if wanted is not None and shape[-dims - 1] != wanted:
        sentence = f"{layer} takes {wanted} input channels, but gets {shape[-dims - 1]} (shape {shape})"
        return "channels", sentence, wanted, dims
    for axis, size, output_size in zip(_AXES[dims], shape[-dims:], sizes, strict=True):
        try:
            output_size(size)
        except ValueError as error:
            map_size = "×".join(map(str, shape[-dims:])) if dims > 1 else f"length-{size}"
            sentence = f"{layer} gets a {map_size} map: along the {axis}, {error}"
            return "small", sentence, None, dims
    return None


def _verdict(model, state: dict, shape: tuple) -> int | None:
    """-1 if ``model`` refuses an input of ``shape`` as too small, +1 as too big, 0 if it takes it, else None."""
    running = _Running(model)
    try:
        torch.func.functional_call(model, state, (torch.zeros(shape, device="meta"),))
    except Exception:  # any refusal other than a known size problem ends the search
        found = _layer_problem(*running.stack[-1]) if running.stack else None
        kind = found and found[0]
        return -1 if kind in ("small", "linear-small") else 1 if kind == "linear-big" else None
    finally:
        running.remove()
    return 0


def _sides_taken(model, channels: int, dims: int) -> tuple[int, int | None] | None:
    """(smallest, largest or None for no limit) square side the model takes, by forward passes on "meta" tensors.

    Output sizes never shrink as the input grows, so a model refuses every side below its smallest (too small)
    and, with a linear head sized for one input, every side above its largest (too big): two bisections find
    both. None when a refusal of another kind makes the search give no answer.
    """
    state = {name: tensor.to("meta") for name, tensor in (*model.named_parameters(), *model.named_buffers())}

    @functools.cache
    def verdict(side: int) -> int | None:
        return _verdict(model, state, (1, channels, *(side,) * dims))

    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            return _bisect_sides(verdict)
    finally:
        model.train(was_training)


def _bisect_sides(verdict) -> tuple[int, int | None] | None:
    """:func:`_sides_taken`'s two bisections, given ``verdict(side)``."""
    if verdict(_LARGEST_SIDE) not in (0, 1):
        return None
    low, high = 0, _LARGEST_SIDE  # too small at low (0: no input at all), not at high
    while high - low > 1:
        middle = (low + high) // 2
        found = verdict(middle)
        if found is None:
            return None
        low, high = (middle, high) if found < 0 else (low, middle)
    if verdict(high) != 0:
        return None
    if verdict(_LARGEST_SIDE) == 0:
        return high, None
    low, top = high, _LARGEST_SIDE  # taken at low, too big at top
    while top - low > 1:
        middle = (low + top) // 2
        low, top = (middle, top) if verdict(middle) == 0 else (low, middle)
    return high, low


@contextlib.contextmanager
def explain_shape_errors(model, shape, argument: str = "input_size", batch_added: bool = True):
    """Around a forward pass of ``model`` on an input of ``shape``: torch's shape errors become teaching ValueErrors.

    The message names the layer that refused its input, with the sizes, and says what would work: the square
    input sizes the model takes (found by forward passes on the "meta" device, so no memory and little time), or
    the shape ``argument`` should have had. ``batch_added``: the caller put a batch axis of 1 in front of the
    student's ``argument`` (``shape[1:]`` is what the student gave); otherwise ``shape`` is the student's own.
    """
    shape = tuple(shape)
    running = _Running(model)
    try:
        yield
    except RuntimeError as error:
        running.remove()
        found = _layer_problem(*running.stack[-1]) if running.stack else None
        if found is None:
            raise
        raise ValueError(_shape_error_text(model, shape, argument, batch_added, found)) from error
    finally:
        running.remove()


def _shape_error_text(model, shape: tuple, argument: str, batch_added: bool, found) -> str:
    """The whole teaching message: what was given, the layer's refusal, and what would work."""
    kind, sentence, wanted, dims = found
    given = shape[1:] if batch_added else shape
    text = f"the model ({type(model).__name__}) cannot take {argument}={given}: {sentence}."
    if kind == "rank" and batch_added and given[:1] == (1,):
        return (
            f"{text} {argument} is the shape of one input, without the batch axis: drop the leading 1, "
            f"{argument}={given[1:]}."
        )
    if kind == "channels":
        example = (*given[: len(given) - dims - 1], wanted, *given[len(given) - dims :])
        return f"{text} If that is the model's first layer, give the input {wanted} channels, e.g. {example}."
    dims = dims or len(shape) - 2  # a linear layer's: the input's axes after (N, C)
    if kind in ("small", "linear-small", "linear-big") and dims >= 1:
        sides = _sides_taken(model, shape[-dims - 1], dims)
        if sides is not None:
            smallest, largest = sides
            side = "×".join([str(smallest)] * dims)
            example = (*given[: len(given) - dims], *(smallest,) * dims)
            if largest is None:
                span = f"inputs of at least {side}"
            elif largest == smallest:
                span = f"only a {side} input"
            else:
                span = f"inputs from {side} to {'×'.join([str(largest)] * dims)}"
            return f"{text} This model takes {span}, e.g. {argument}={example}."
    return text


def multiply_adds(model, input_size) -> int:
    """Multiply-adds of one forward pass of one input, counted over the conv and linear layers (the usual measure).

    A convolution does (in_channels/groups * kh * kw) multiply-adds for each output element, a linear layer
    ``in_features`` for each output. ``input_size`` is the shape of one input without the batch axis, e.g.
    ``(3, 224, 224)``. The model runs once on zeros, in eval mode, to see every layer's output size.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"multiply_adds needs an nn.Module (a model or a layer), got {type(model).__name__}")
    if not isinstance(input_size, Sequence) or isinstance(input_size, str) or not input_size:
        raise ValueError(
            f"input_size must be the shape of one input without the batch axis, e.g. (3, 224, 224) for an RGB "
            f"image, got {input_size!r}"
        )
    input_size = tuple(check_int(f"input_size[{axis}]", n) for axis, n in enumerate(input_size))
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
        with torch.no_grad(), explain_shape_errors(model, (1, *input_size)):
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


def dense_parameter_count(in_features: int, out_features: int, bias: bool = True) -> int:
    """Learnable parameters of ``nn.Linear``: (in + bias) * out, one weight per (input, output) pair.

    Every output has its own weight for every input, so the count grows with the product of the two sizes.
    """
    in_features = check_int("in_features", in_features)
    out_features = check_int("out_features", out_features)
    return (in_features + int(bool(bias))) * out_features
