"""What a trained network computes inside: the feature maps of its layers for one image (lesson 03).

- :func:`activations`: one forward pass with forward hooks; every chosen layer's output for the image, and
  the logits.
- :func:`feature_maps`: the feature maps alone, ``{layer name: (C, H, W) tensor}`` in forward order.

Pure functions: the model is run in eval mode without gradients, its train/eval mode is restored, and the
maps are copies on the CPU (an in-place activation later in the network cannot overwrite them).
:class:`cnn_lessons.explorers.FeatureMapExplorer` shows them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import torch
from torch import nn

from cnn_lessons.arithmetic import explain_shape_errors

__all__ = ["Activations", "activations", "feature_maps"]


class Activations(NamedTuple):
    """What :func:`activations` returns: ``maps`` (layer name -> (C, H, W) map, forward order) and ``logits``
    (the model's output for the image, without the batch axis, on the CPU)."""

    maps: dict[str, torch.Tensor]
    logits: torch.Tensor


def _model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _as_tensor(value, name: str) -> torch.Tensor:
    try:
        return torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(
            f"{name} must be a tensor (or something torch.as_tensor takes), got {value!r}: {error}"
        ) from None


def _as_batch_of_one(image) -> torch.Tensor:
    image = _as_tensor(image, "image")
    if image.ndim == 2:  # (H, W): one grayscale channel
        image = image[None]
    if image.ndim == 4 and image.shape[0] == 1:
        image = image[0]
    if image.ndim != 3:
        raise ValueError(
            f"image must be one image of shape (C, H, W) (or (H, W), or (1, C, H, W)), got shape {tuple(image.shape)}"
        )
    if not image.is_floating_point():
        image = image.float()
    return image[None]


def activations(model: nn.Module, image, layers=None) -> Activations:
    """Run ``model`` once on ``image`` and keep the outputs of ``layers``.

    ``image``: one image, (C, H, W) (or (H, W) for one channel). ``layers``: names from
    ``model.named_modules()`` (e.g. ``["block1.conv", "block2.act"]``); by default every leaf module (one
    without children) whose output is a feature map, a 4-D (N, C, H, W) tensor: for a
    :class:`~cnn_lessons.models.SimpleCNN` the convolutions, activations and pools of the conv blocks. A
    module called twice in one pass keeps its first output.
    """
    return _activations(model, _as_batch_of_one(image), layers, one=True)[0]


def batch_activations(model: nn.Module, images, layers=None) -> list[Activations]:
    """:func:`activations` of every image of the batch ``images`` (N, C, H, W), from one forward pass.

    The model runs in eval mode (as for one image), so each image's maps do not depend on the others in the
    batch: the same values as one image at a time, up to float rounding.
    """
    return _activations(model, images, layers, one=False)


@torch.no_grad()
def _activations(model: nn.Module, images, layers, one: bool) -> list[Activations]:
    """:func:`batch_activations`; ``one``: the batch is the one image a student gave (for the error messages)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module (a network), got {type(model).__name__}")
    images = _as_tensor(images, "images")
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"images must be a non-empty batch (N, C, H, W), got shape {tuple(images.shape)}")
    if not images.is_floating_point():
        images = images.float()
    modules = dict(model.named_modules())
    if layers is None:
        chosen = [name for name, module in modules.items() if name and not any(True for _ in module.children())]
    else:
        if isinstance(layers, str):
            layers = [layers]
        if not isinstance(layers, Iterable):
            raise TypeError(f"layers must be a layer's name or a list of names, e.g. ['block1.conv'], got {layers!r}")
        chosen = list(layers)
        unknown = [name for name in chosen if name not in modules or not name]
        if unknown:
            known = [name for name in modules if name]
            raise ValueError(f"no layer named {unknown[0]!r} in the model; its layers are {known}")
    outputs: dict[str, torch.Tensor] = {}

    def hook(name):
        def keep(module, args, output):
            if name not in outputs and isinstance(output, torch.Tensor):
                outputs[name] = output.detach().to("cpu", copy=True)

        return keep

    handles = [modules[name].register_forward_hook(hook(name)) for name in chosen]
    was_training = model.training
    model.eval()
    try:
        with explain_shape_errors(model, tuple(images.shape), "image" if one else "images", batch_added=one):
            try:
                logits = model(images.to(_model_device(model)))
            finally:  # before a shape error is explained: its search runs the model on "meta" tensors
                for handle in handles:
                    handle.remove()
    finally:
        model.train(was_training)
    if layers is None:
        names = [name for name, output in outputs.items() if output.ndim == 4]
    else:
        flat = [name for name in chosen if name not in outputs or outputs[name].ndim != 4]
        if flat:
            got = outputs.get(flat[0])
            shape = "no output (it was not called)" if got is None else f"an output of shape {tuple(got.shape)}"
            raise ValueError(f"layer {flat[0]!r} does not give a feature map (N, C, H, W): it has {shape}")
        names = chosen
    order = {name: index for index, name in enumerate(outputs)}  # the order the layers ran in
    names = sorted(names, key=order.__getitem__)
    logits = logits.detach().to("cpu")
    return [Activations({name: outputs[name][i] for name in names}, logits[i]) for i in range(len(images))]


def feature_maps(model: nn.Module, image, layers=None) -> dict[str, torch.Tensor]:
    """``{layer name: (C, H, W) feature map}`` for one image, in the order the layers run (:func:`activations`)."""
    return activations(model, image, layers).maps
