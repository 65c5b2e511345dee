"""A model at another input size, in pure integers: stage shapes, multiply-adds and why a size is refused.

:func:`facts_at` answers within a millisecond or two, fast enough for a slider: each model of :data:`MODELS` is
traced once with ``torch.fx`` (on the "meta" device, in eval mode) and its graph compiled into a list of steps,
one per node, each a shape rule with the layer's numbers read off once (kernel, stride, padding, ...). A size is
then a walk down that list in plain Python: no tensors, no forward pass. The output sizes come from
:func:`~cnn_lessons.arithmetic.conv_output_size` and :func:`~cnn_lessons.arithmetic.pool_output_size`, and the
multiply-adds are counted as :func:`~cnn_lessons.arithmetic.multiply_adds` counts them (conv: in_channels/groups
* kh * kw per output element; linear: in_features per output element), so both agree exactly with torch.

A node the rules do not know stops the compilation with a ``NotImplementedError`` naming it (a new model in the
zoo then needs a rule here); a size a layer cannot take gives a sentence in :attr:`ResolutionFacts.problem`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import operator
from collections.abc import Callable

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from cnn_lessons.arithmetic import conv_output_size, pool_output_size
from cnn_lessons.models.facts import check_model_name, model_input_size
from cnn_lessons.models.zoo import MODELS

__all__ = ["ResolutionFacts", "facts_at"]

# The arithmetic, remembered: a model asks for the same few (size, kernel, stride, padding, dilation) again and again,
# and the checks each call makes cost more than the formula. A refusal raises every time (exceptions are not cached).
_conv_size = functools.lru_cache(maxsize=65536)(conv_output_size)
_pool_size = functools.lru_cache(maxsize=65536)(pool_output_size)

_SEARCH_LIMIT = 2048  # no zoo model needs more than ~100 px; a model refusing everything up to here is reported
_NO_LIMIT_PROBE = 4096  # a model that takes this size (and its smallest) is taken to have no upper limit


@dataclasses.dataclass(frozen=True, kw_only=True)
class ResolutionFacts:
    """Model ``name`` on one square input of ``input_size`` = (channels, size, size) (see :func:`facts_at`).

    ``multiply_adds``: of one forward pass, or None when the model refuses the input; ``stage_shapes``: the output
    shape of each top-level stage without the batch axis, e.g. ``(64, 56, 56)`` or ``(1000,)``, in the order
    :func:`~cnn_lessons.models.stage_parameter_counts` lists them, None for the stages the input never reaches;
    ``problem``: None, or a sentence saying which layer refuses the input and why, with the numbers;
    ``smallest``: the smallest square size the model takes; ``largest``: the largest, or None when there is no
    limit (a global pooling before the head takes any map). The sizes accepted are all of
    ``smallest <= size <= largest``: LeNet-5, which has no global pooling, takes only 32 to 35.
    """

    name: str
    input_size: tuple[int, int, int]
    multiply_adds: int | None
    stage_shapes: dict[str, tuple[int, ...] | None]
    problem: str | None
    smallest: int
    largest: int | None


def facts_at(name: str, size: int) -> ResolutionFacts:
    """Stage output shapes, multiply-adds and (if refused) the reason, for model ``name`` on a size x size input.

    The first call for a model builds and traces it (0.01 to 0.3 s) and finds its smallest and largest sizes;
    after that a new size costs one walk over the compiled graph (about a millisecond for DenseNet-121, the
    largest graph), and every (name, size) answer is cached. ``size`` is the side of the square input in pixels;
    the channels are the model's own (1 for ``lenet5``, 3 for the others), as in
    :func:`~cnn_lessons.models.model_input_size`.
    """
    check_model_name(name)
    if isinstance(size, bool) or not isinstance(size, numbers.Integral):
        raise TypeError(
            f"size must be a whole number of pixels (the side of the square input, e.g. 224), "
            f"got {size!r} ({type(size).__name__})"
        )
    if size < 1:
        raise ValueError(f"size must be at least 1 pixel (the side of the square input, e.g. 224), got {size}")
    return _facts_at(name, int(size))


@functools.lru_cache(maxsize=8192)
def _facts_at(name: str, size: int) -> ResolutionFacts:
    """:func:`facts_at` after its checks, cached per (name, size)."""
    program = _program(name)
    smallest, largest = _limits(name)
    run = _run(program, size)
    problem = None if run.failed is None else _problem(name, program, run, size)
    return ResolutionFacts(
        name=name,
        input_size=(program.channels, size, size),
        multiply_adds=run.multiply_adds if run.failed is None else None,
        stage_shapes={
            stage: (None if slot is None or run.shapes[slot] is None else run.shapes[slot][1:])
            for stage, slot in program.stages
        },
        problem=problem,
        smallest=smallest,
        largest=largest,
    )


# --- the compiled graph --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Step:
    """One node of the graph: ``rule(params, *input_shapes)`` gives its output shape (batch axis first).

    ``inputs``: the slots of its tensor inputs (slot 0 is the model's input, slot i the output of step i);
    ``work``: multiply-adds per output element (0 for all but conv and linear layers); ``kind``: "window",
    "linear", "merge" or "other", for the sentence that explains a refusal; ``label``: the layer's name in the
    model, e.g. ``conv5.2``; ``what``: a few words on it, e.g. ``3×3 max-pool, stride 2``; ``source``: for a
    linear layer fed by a flatten, the slots (flatten, layer that last set the map's size).
    """

    rule: Callable
    inputs: tuple[int, ...]
    params: tuple
    work: int
    kind: str
    label: str
    what: str
    source: tuple[int, int] | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Program:
    """A model's graph as steps, with the slot whose shape is each top-level stage's output."""

    channels: int
    steps: tuple[_Step, ...]
    stages: tuple[tuple[str, int | None], ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Run:
    """The shapes one size gives (None past a refusal), the multiply-adds, and the step that refused, if any."""

    shapes: list
    multiply_adds: int
    failed: int | None
    error: Exception | None


def _run(program: _Program, size: int) -> _Run:
    """Walk the steps for one size x size input (batch 1), adding up the multiply-adds."""
    shapes: list = [None] * (len(program.steps) + 1)
    shapes[0] = (1, program.channels, size, size)
    total = 0
    for slot, step in enumerate(program.steps, start=1):
        try:
            shape = step.rule(step.params, *[shapes[i] for i in step.inputs])
        except ValueError as error:
            return _Run(shapes=shapes, multiply_adds=total, failed=slot, error=error)
        shapes[slot] = shape
        if step.work:
            total += step.work * math.prod(shape)
    return _Run(shapes=shapes, multiply_adds=total, failed=None, error=None)


@functools.cache
def _program(name: str) -> _Program:
    """Trace model ``name`` once (meta device, eval mode) and compile its graph."""
    with torch.device("meta"):
        model = MODELS[name]()
    return _compile_graph(model.eval(), model_input_size(name)[0], name)


def _compile_graph(model: nn.Module, channels: int, name: str = "") -> _Program:
    """Trace ``model`` with ``torch.fx`` and turn each node into a :class:`_Step`; unknown nodes raise."""
    name = name or type(model).__name__
    traced = torch.fx.symbolic_trace(model)
    modules = dict(traced.named_modules())
    slots: dict = {}
    steps: list[_Step] = []
    last_of_stage: dict[str, int] = {}
    for node in traced.graph.nodes:
        if node.op == "placeholder":
            if slots:
                raise NotImplementedError(f"{name} takes more than one input ({node.name}); facts_at needs one")
            slots[node] = 0
            continue
        if node.op == "output":
            break
        stack = [path for path, _ in (node.meta.get("nn_module_stack") or {}).values()]
        label = node.target if node.op == "call_module" else (stack[-1] if stack else name)
        step = _compile_node(node, modules, traced, slots, steps, label)
        if step is None:
            raise NotImplementedError(
                f"facts_at has no shape rule for {node.op} {_target_name(node.target)!r} in {name} (at {label}, "
                f"node {node.name}); add one to cnn_lessons/models/resolution.py"
            )
        steps.append(step)
        slots[node] = len(steps)
        stage = (stack[0] if stack else str(node.target)).split(".")[0] if stack or node.op == "call_module" else None
        if stage is not None:
            last_of_stage[stage] = len(steps)
    stages = tuple((child, last_of_stage.get(child)) for child, _ in model.named_children())
    return _Program(channels=channels, steps=tuple(steps), stages=stages)


def _target_name(target) -> str:
    return target if isinstance(target, str) else getattr(target, "__name__", repr(target))


def _compile_node(node, modules, traced, slots, steps, label) -> _Step | None:
    """The step for one fx node, or None when no rule fits."""
    tensors = tuple(slots[n] for n in node.all_input_nodes)
    if node.op == "call_module":
        return _module_step(modules[node.target], tensors, label, slots, steps, node)
    if node.op == "get_attr":
        value = operator.attrgetter(node.target)(traced)
        return _Step(rule=_constant, inputs=(), params=tuple(value.shape), work=0, kind="other", label=label, what="")
    if node.op == "call_function":
        return _function_step(node, tensors, label, slots)
    if node.op == "call_method":
        return _method_step(node, tensors, label)
    return None


# the layer kinds by their public classes (torch's shared base classes, _ConvNd and the like, are private)
_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_POOL_DIMS = {
    nn.MaxPool1d: 1, nn.AvgPool1d: 1, nn.MaxPool2d: 2, nn.AvgPool2d: 2, nn.MaxPool3d: 3, nn.AvgPool3d: 3,
}  # fmt: skip
_ADAPTIVE_POOLS = (
    nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
    nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d,
)  # fmt: skip


def _module_step(module, tensors, label, slots, steps, node) -> _Step | None:
    """Steps for the layers the zoo uses: conv, pools, adaptive pools, flatten, linear and shape keepers."""
    step = functools.partial(_Step, inputs=tensors, label=label)
    if isinstance(module, _CONVS):
        padding = module.padding if isinstance(module.padding, str) else tuple(module.padding)
        paddings = (padding,) * len(module.kernel_size) if isinstance(padding, str) else padding
        params = (
            module.in_channels,
            module.out_channels,
            tuple(zip(module.kernel_size, module.stride, paddings, module.dilation, strict=True)),
        )
        work = module.in_channels // module.groups * math.prod(module.kernel_size)
        return step(rule=_conv, params=params, work=work, kind="window", what=_conv_words(module))
    if isinstance(module, tuple(_POOL_DIMS)):
        dims = next(d for kind, d in _POOL_DIMS.items() if isinstance(module, kind))
        kernels = _tuple(module.kernel_size, dims)
        strides = _tuple(module.stride or module.kernel_size, dims)  # stride None: the window's size, as torch does
        paddings = _tuple(module.padding, dims)
        dilations = _tuple(getattr(module, "dilation", 1), dims)
        params = (tuple(zip(kernels, strides, paddings, dilations, strict=True)), bool(module.ceil_mode))
        kind = "max-pool" if isinstance(module, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)) else "average pool"
        return step(rule=_pool, params=params, work=0, kind="window", what=_window_words(kernels, strides, kind))
    if isinstance(module, _ADAPTIVE_POOLS):
        return step(rule=_adaptive, params=(module.output_size,), work=0, kind="other", what="adaptive pool")
    if isinstance(module, nn.Flatten):
        return step(rule=_flatten, params=(module.start_dim, module.end_dim), work=0, kind="other", what="flatten")
    if isinstance(module, nn.Linear):
        source = _flatten_source(node, slots, steps)
        words = f"linear layer, {module.in_features} inputs"
        params = (module.in_features, module.out_features)
        return step(rule=_linear, params=params, work=module.in_features, kind="linear", what=words, source=source)
    if isinstance(module, _SHAPE_KEEPING_MODULES):
        return step(rule=_same, params=(), work=0, kind="other", what=type(module).__name__)
    return None


def _function_step(node, tensors, label, slots) -> _Step | None:
    """Steps for the functions the zoo calls: cat, add/mul (broadcasting), flatten, mean, layer norm, ..."""
    target, args, kwargs = node.target, node.args, node.kwargs
    step = functools.partial(_Step, inputs=tensors, label=label, work=0)
    if target is torch.cat:
        parts = tuple(slots[n] for n in _arg(args, kwargs, 0, "tensors", ()))  # each part, repeats included
        params = (_arg(args, kwargs, 1, "dim", 0),)
        return step(rule=_cat, params=params, kind="merge", what="concatenation", inputs=parts)
    if target in _BROADCASTING_FUNCTIONS:
        words = _BROADCASTING_FUNCTIONS[target]
        return step(rule=_broadcast, params=(), kind="merge" if len(tensors) > 1 else "other", what=words)
    if target is torch.flatten:
        params = (_arg(args, kwargs, 1, "start_dim", 0), _arg(args, kwargs, 2, "end_dim", -1))
        return step(rule=_flatten, params=params, kind="other", what="flatten")
    if target is torch.mean:
        params = (_arg(args, kwargs, 1, "dim", None), _arg(args, kwargs, 2, "keepdim", False))
        return step(rule=_mean, params=params, kind="other", what="mean")
    if target is F.adaptive_avg_pool2d or target is F.adaptive_max_pool2d:
        return step(rule=_adaptive, params=(_arg(args, kwargs, 1, "output_size", None),), kind="other", what="pool")
    if target in _SHAPE_KEEPING_FUNCTIONS:
        return step(rule=_same, params=(), kind="other", what=_target_name(target))
    return None


def _method_step(node, tensors, label) -> _Step | None:
    """Steps for the tensor methods the zoo calls: permute, flatten, mean, and shape keepers."""
    target, args, kwargs = node.target, node.args[1:], node.kwargs
    step = functools.partial(_Step, inputs=tensors, label=label, work=0, kind="other", what=target)
    if target == "permute":
        order = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
        return step(rule=_permute, params=(tuple(kwargs.get("dims", order)),))
    if target == "flatten":
        params = (_arg(args, kwargs, 0, "start_dim", 0), _arg(args, kwargs, 1, "end_dim", -1))
        return step(rule=_flatten, params=params)
    if target == "mean":
        return step(rule=_mean, params=(_arg(args, kwargs, 0, "dim", None), _arg(args, kwargs, 1, "keepdim", False)))
    if target in _SHAPE_KEEPING_METHODS and len(tensors) == 1:
        return step(rule=_same, params=())
    if target in ("add", "mul", "sub", "div"):
        return step(rule=_broadcast, params=(), kind="merge" if len(tensors) > 1 else "other")
    return None


def _arg(args, kwargs, index, keyword, default):
    return kwargs[keyword] if keyword in kwargs else args[index] if len(args) > index else default


def _tuple(value, dims: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims


def _flatten_source(node, slots, steps) -> tuple[int, int] | None:
    """(flatten slot, slot of the layer that last set the map's size) for a linear layer fed by a flatten."""
    flatten = None
    while node.all_input_nodes and slots[node.all_input_nodes[0]] > 0:
        node = node.all_input_nodes[0]
        step = steps[slots[node] - 1]
        if flatten is None and step.rule is _flatten:
            flatten = slots[node]
        elif flatten is None and step.rule is not _same:
            return None
        elif flatten is not None and (step.kind == "window" or step.rule is _adaptive):
            return flatten, slots[node]
    return None


_SHAPE_KEEPING_MODULES = (
    nn.ReLU,
    nn.ReLU6,
    nn.SiLU,
    nn.GELU,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.LeakyReLU,
    nn.ELU,
    nn.Mish,
    nn.Identity,
    nn.Dropout,
    nn.Dropout1d,
    nn.Dropout2d,
    nn.Dropout3d,
    nn.AlphaDropout,
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.BatchNorm3d,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.LocalResponseNorm,
)
_SHAPE_KEEPING_FUNCTIONS = {
    F.layer_norm,
    F.batch_norm,
    F.relu,
    F.relu6,
    F.silu,
    F.gelu,
    F.dropout,
    torch.relu,
    torch.sigmoid,
    torch.tanh,
}
_SHAPE_KEEPING_METHODS = {"contiguous", "relu", "sigmoid", "tanh", "clone"}
_BROADCASTING_FUNCTIONS = {
    operator.add: "addition",
    operator.iadd: "addition",
    torch.add: "addition",
    operator.mul: "multiplication",
    operator.imul: "multiplication",
    torch.mul: "multiplication",
    operator.sub: "subtraction",
    operator.truediv: "division",
}


# --- the shape rules: rule(params, *input_shapes) -> output shape, batch axis first -----------------------------


def _constant(params):
    return params


def _same(params, shape, *others):
    return shape


def _conv(params, shape):
    in_channels, out_channels, axes = params
    if shape[1] != in_channels:
        raise ValueError(f"expects {in_channels} channels, gets {shape[1]}")
    spatial = tuple(_conv_size(n, k, s, p, d) for n, (k, s, p, d) in zip(shape[2:], axes, strict=True))
    return (shape[0], out_channels, *spatial)


def _pool(params, shape):
    axes, ceil_mode = params
    spatial = tuple(_pool_size(n, k, s, p, d, ceil_mode) for n, (k, s, p, d) in zip(shape[2:], axes, strict=True))
    return (*shape[:2], *spatial)


def _adaptive(params, shape):
    (size,) = params
    dims = len(shape) - 2
    wanted = _tuple(size, dims)
    return (*shape[:2], *(n if w is None else w for n, w in zip(shape[2:], wanted, strict=True)))


def _flatten(params, shape):
    start, end = (d % len(shape) for d in params)
    return (*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])


def _linear(params, shape):
    in_features, out_features = params
    if shape[-1] != in_features:
        raise ValueError(f"a linear layer of {in_features} inputs gets {shape[-1]} values")
    return (*shape[:-1], out_features)


def _permute(params, shape):
    return tuple(shape[d] for d in params[0])


def _mean(params, shape):
    dims, keepdim = params
    dims = range(len(shape)) if dims is None else _tuple(dims, 1)
    dims = {d % len(shape) for d in dims}
    if keepdim:
        return tuple(1 if i in dims else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in dims)


def _cat(params, *shapes):
    dim = params[0] % len(shapes[0])
    for shape in shapes[1:]:
        if len(shape) != len(shapes[0]) or any(
            a != b for i, (a, b) in enumerate(zip(shape, shapes[0], strict=True)) if i != dim
        ):
            raise ValueError(f"cannot concatenate {_shape_text(shapes[0])} and {_shape_text(shape)} along axis {dim}")
    return (*shapes[0][:dim], sum(shape[dim] for shape in shapes), *shapes[0][dim + 1 :])


def _broadcast(params, *shapes):
    result = shapes[0]
    for shape in shapes[1:]:
        if shape == result:
            continue
        width = max(len(result), len(shape))
        a, b = (1,) * (width - len(result)) + result, (1,) * (width - len(shape)) + shape
        if any(x != y and 1 not in (x, y) for x, y in zip(a, b, strict=True)):
            raise ValueError(f"cannot combine {_shape_text(result)} with {_shape_text(shape)}")
        result = tuple(max(x, y) for x, y in zip(a, b, strict=True))
    return result


# --- words ---------------------------------------------------------------------------------------------------


def _shape_text(shape) -> str:
    return "×".join(str(n) for n in shape)


def _window_words(kernels, strides, kind: str, extra: str = "") -> str:
    words = f"{_shape_text(kernels)} {kind}"
    if any(s != 1 for s in strides):
        words += f", stride {strides[0] if len(set(strides)) == 1 else _shape_text(strides)}"
    return words + extra


def _conv_words(module) -> str:
    kind = "depthwise conv" if module.groups == module.in_channels > 1 else "conv"
    return _window_words(module.kernel_size, module.stride, kind)


def _problem(name: str, program: _Program, run: _Run, size: int) -> str:
    """The sentence that explains why model ``name`` refuses a size x size input."""
    smallest, largest = _limits(name)
    step = program.steps[run.failed - 1]
    shapes = run.shapes
    if largest is None:
        lead = f"{name} needs an input of at least {smallest}×{smallest}"
    elif smallest == largest:
        lead = f"{name} takes only a {smallest}×{smallest} input"
    else:
        lead = f"{name} takes only inputs from {smallest}×{smallest} to {largest}×{largest}"
    given = shapes[step.inputs[0]] if step.inputs else None
    if step.kind == "window":
        detail = f"{step.label} ({step.what}) would get a {_shape_text(given[2:])} map, smaller than its window"
        axes = step.params[-1] if step.rule is _conv else step.params[0]
        padded = [n + 2 * p for n, (_, _, p, _) in zip(given[2:], axes, strict=True) if isinstance(p, int)]
        if any(p for _, _, p, _ in axes if isinstance(p, int)) and len(padded) == len(axes):
            detail = detail.replace(" map,", f" map ({_shape_text(padded)} with its padding),")
    elif step.kind == "linear" and step.source is not None:
        flatten, origin = step.source
        before = program.steps[origin - 1]
        detail = (
            f"{before.label} ({before.what}) would get a {_shape_text(shapes[before.inputs[0]][2:])} map and give "
            f"{_shape_text(shapes[origin][1:])} = {shapes[flatten][-1]} values, which "
            f"{program.steps[flatten - 1].label} flattens, but {step.label} takes {step.params[0]} inputs"
        )
    else:
        detail = f"{step.label} ({step.what}) refuses its {_shape_text(given[1:])} input: {run.error}"
    return f"{lead}: at {size}×{size}, {detail}.{_head_note(name)}"


@functools.cache
def _head_note(name: str) -> str:
    """For a model without global pooling: which map its head needs, read from a run at its smallest size."""
    program = _program(name)
    smallest, largest = _limits(name)
    if largest is None:
        return ""
    refused = _run(program, largest + 1)
    step = program.steps[refused.failed - 1]
    if step.kind != "linear" or step.source is None:
        return ""
    flatten, origin = step.source
    fits = _run(program, smallest).shapes
    before = program.steps[origin - 1]
    return (
        f" It has no global pooling, so {step.label}'s {step.params[0]} inputs must be {before.label}'s "
        f"{_shape_text(fits[origin][1:])} output, which its {before.what} makes only from a "
        f"{_shape_text(fits[before.inputs[0]][2:])} map."
    )


@functools.cache
def _limits(name: str) -> tuple[int, int | None]:
    """(smallest, largest) square size model ``name`` takes, found with the fast path; largest None: no limit."""
    program = _program(name)
    smallest = next((s for s in range(1, _SEARCH_LIMIT + 1) if _run(program, s).failed is None), None)
    if smallest is None:
        raise ValueError(f"{name} refuses every square input from 1×1 to {_SEARCH_LIMIT}×{_SEARCH_LIMIT}")
    if _run(program, _NO_LIMIT_PROBE).failed is None:
        return smallest, None
    largest = smallest
    while _run(program, largest + 1).failed is None:
        largest += 1
    return smallest, largest
