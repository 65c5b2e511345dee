"""Facts about a model that need no training: its parameters, per stage, its multiply-adds, its summary table."""

from __future__ import annotations

import dataclasses
import itertools
import re

import torch
import torchinfo
from torch import nn

from cnn_lessons.arithmetic import explain_shape_errors, multiply_adds, receptive_field
from cnn_lessons.models.zoo import MODELS

__all__ = [
    "count_parameters",
    "stage_parameter_counts",
    "summary_text",
    "model_input_size",
    "ModelFacts",
    "model_facts",
]


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of scalar parameters in ``module`` (all of them, or only those with ``requires_grad``)."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"count_parameters needs an nn.Module (a model or a layer), got {type(module).__name__}")
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


_TORCHINFO_UNIT = re.compile(r"\(Units\.(\w+)\)")


def summary_text(model: nn.Module, input_size, **kwargs) -> str:
    """``str(torchinfo.summary(model, input_size=input_size, verbose=0, **kwargs))``, its units written as meant.

    torchinfo 1.8 on Python 3.11+ prints its unit enum by name, ``Total mult-adds (Units.MEGABYTES): 0.42``;
    this writes the unit the enum stands for, ``(M)`` (or ``(G)``, ``(T)``). ``input_size`` includes the
    batch axis, e.g. ``(1, 3, 32, 32)``; the keywords are torchinfo's (``depth``, ``col_names``,
    ``row_settings``, ``device``, ...). Without ``device`` the summary runs where the model's parameters are
    (the CPU for a model without any): torchinfo's own default would move a CPU model to the GPU, in place,
    whenever there is one, and cannot run a model on the "meta" device.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"summary_text needs an nn.Module, got {type(model).__name__}")
    if "device" not in kwargs:
        tensor = next(itertools.chain(model.parameters(), model.buffers()), None)
        kwargs["device"] = torch.device("cpu") if tensor is None else tensor.device
    shape = _one_shape(input_size)
    if shape is None:
        text = str(torchinfo.summary(model, input_size=input_size, verbose=0, **kwargs))
    else:
        _check_batch_axis(model, shape)
        with explain_shape_errors(model, shape, "input_size", batch_added=False):
            text = str(torchinfo.summary(model, input_size=input_size, verbose=0, **kwargs))
    return _TORCHINFO_UNIT.sub(_unit_letter, text)


def _one_shape(input_size) -> tuple[int, ...] | None:
    """``input_size`` as one shape of whole numbers, or None (torchinfo also takes lists of shapes)."""
    if isinstance(input_size, (tuple, list, torch.Size)) and all(
        isinstance(n, int) and not isinstance(n, bool) for n in input_size
    ):
        return tuple(input_size)
    return None


def _check_batch_axis(model: nn.Module, shape: tuple[int, ...]) -> None:
    """torchinfo's ``input_size`` includes the batch axis: one axis short of the first conv's batch is an error."""
    first = next((m for m in model.modules() if isinstance(m, nn.modules.conv._ConvNd)), None)
    if first is not None and len(shape) == len(first.kernel_size) + 1:
        raise ValueError(
            f"input_size for summary_text includes the batch axis (torchinfo's convention), but {shape} has "
            f"{len(shape)} axes and the model's first convolution takes batches of {len(shape) + 1}; "
            f"use input_size={(1, *shape)}"
        )


def _unit_letter(match) -> str:
    """ "(Units.MEGABYTES)" -> "(M)"; a unit torchinfo does not know stays as written."""
    unit = torchinfo.Units.__members__.get(match.group(1))
    return f"({unit.value})" if unit is not None else match.group(0)


_MODEL_INPUT_SIZES = {"lenet5": (1, 32, 32), "xception": (3, 299, 299)}  # every other model: (3, 224, 224)


def model_input_size(name: str) -> tuple[int, int, int]:
    """The (channels, height, width) of one input that model ``name`` is summarised on: 1x32x32 grayscale for
    LeNet-5 (the size it was designed for), 3x299x299 RGB for Xception (the size it was trained and published at,
    as for Inception v3), 3x224x224 RGB for the other ImageNet models."""
    check_model_name(name)
    return _MODEL_INPUT_SIZES.get(name, (3, 224, 224))


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelFacts:
    """What lesson 04's model explorer shows about one model of :data:`MODELS` (see :func:`model_facts`).

    ``input_size``: (channels, height, width) of the one input the numbers are for; ``parameters``: the
    total; ``multiply_adds``: of one forward pass; ``stages``: parameters per top-level stage, as
    :func:`stage_parameter_counts` gives them; ``summary``: the :func:`summary_text` table;
    ``receptive_field``: of the last feature map, by :func:`cnn_lessons.arithmetic.receptive_field`.
    """

    name: str
    input_size: tuple[int, int, int]
    parameters: int
    multiply_adds: int
    stages: dict[str, int]
    summary: str
    receptive_field: int


_FACTS: dict[str, ModelFacts] = {}


def check_model_name(name) -> None:
    """Raise a ValueError listing the models (and the one meant, if only the spelling is off) unless ``name`` is one."""
    if isinstance(name, str) and name in MODELS:
        return
    spelled = {key.replace("_", "").replace("-", ""): key for key in MODELS}
    meant = spelled.get(name.lower().replace("_", "").replace("-", "")) if isinstance(name, str) else None
    hint = f"; did you mean {meant!r}?" if meant else ""
    raise ValueError(f"name must be one of {list(MODELS)}, got {name!r}{hint}")


def model_facts(name: str) -> ModelFacts:
    """Parameters, multiply-adds, parameters per stage and the ``torchinfo`` summary of model ``name``.

    The model is built on PyTorch's "meta" device (shapes only: no memory, no weights to initialise, forward
    passes that only propagate shapes), so even VGG-16 takes a fraction of a second; the result is cached per
    name. The summary is ``summary_text(model, (1, *model_input_size(name)), depth=1)`` with each stage's
    name shown; multiply-adds come from :func:`cnn_lessons.arithmetic.multiply_adds`.
    """
    check_model_name(name)
    if name not in _FACTS:
        size = model_input_size(name)
        with torch.device("meta"):
            model = MODELS[name]()
        model.eval()
        _FACTS[name] = ModelFacts(
            name=name,
            input_size=size,
            parameters=count_parameters(model),
            multiply_adds=multiply_adds(model, size),
            stages=stage_parameter_counts(model),
            summary=summary_text(model, (1, *size), depth=1, device="meta", row_settings=("var_names",)),
            receptive_field=receptive_field(model),
        )
    return _FACTS[name]
