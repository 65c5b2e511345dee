"""Helpers a student calls on a model or on images get errors that teach, not tracebacks from inside torch.

features (activations, feature_maps, batch_activations) and data (shift_images, random_shifts): the wrong kind of
argument, an image the model cannot take (the layer, the sizes and the size that would work, each checked
against torch itself).
"""

import re

import pytest
import torch
from torch import nn

from cnn_lessons import data, features, models


def _tiny_cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten()).eval()


def _torch_takes(model, shape):
    try:
        with torch.no_grad():
            model(torch.zeros(1, *shape))
    except RuntimeError:
        return False
    return True


def test_feature_maps_explains_an_image_too_small():
    model = _tiny_cnn()
    with pytest.raises(ValueError) as caught:
        features.feature_maps(model, torch.zeros(3, 3))
    message = str(caught.value)
    assert message.startswith("the model (Sequential) cannot take image=(1, 3, 3): layer 2 (MaxPool2d(kernel_size=2")
    assert "gets a 1×1 map: along the height, a pooling window of 2 spans 2 positions" in message
    assert message.endswith("This model takes inputs of at least 4×4, e.g. image=(1, 4, 4).")
    assert _torch_takes(model, (1, 4, 4)) and not _torch_takes(model, (1, 3, 3))
    assert list(features.feature_maps(model, torch.zeros(4, 4))) == ["0", "1", "2", "3"]
    assert model.training is False and all(not m._forward_hooks for m in model.modules())


def test_batch_activations_explains_wrong_channels():
    model = _tiny_cnn()
    with pytest.raises(ValueError) as caught:
        features.batch_activations(model, torch.zeros(2, 3, 8, 8))
    assert str(caught.value) == (
        "the model (Sequential) cannot take images=(2, 3, 8, 8): layer 0 (Conv2d(1, 2, kernel_size=(3, 3), "
        "stride=(1, 1))) takes 1 input channels, but gets 3 (shape (2, 3, 8, 8)). If that is the model's first "
        "layer, give the input 1 channels, e.g. (2, 1, 8, 8)."
    )


def test_activations_explains_the_wrong_kind_of_argument():
    model = _tiny_cnn()
    with pytest.raises(TypeError, match=r"^model must be an nn.Module \(a network\), got str$"):
        features.feature_maps("model", torch.zeros(8, 8))
    with pytest.raises(
        TypeError, match=re.escape("image must be a tensor (or something torch.as_tensor takes), got 'abc'")
    ):
        features.feature_maps(model, "abc")
    with pytest.raises(
        TypeError, match=re.escape("layers must be a layer's name or a list of names, e.g. ['block1.conv'], got 3")
    ):
        features.feature_maps(model, torch.zeros(8, 8), layers=3)


def test_activations_of_a_zoo_model_name_its_smallest_input():
    alexnet = models.alexnet()
    with pytest.raises(
        ValueError, match=re.escape("This model takes inputs of at least 63×63, e.g. image=(3, 63, 63).")
    ):
        features.activations(alexnet, torch.zeros(3, 16, 16))


def test_shifts_explain_the_wrong_kind_of_argument():
    with pytest.raises(TypeError, match=re.escape("images must be a tensor of shape (..., H, W) (or something")):
        data.shift_images("abc", 1, 1)
    with pytest.raises(
        ValueError, match=re.escape("images must have at least 3 axes (N, ..., H, W), a batch, got shape (4, 4)")
    ):
        data.random_shifts(torch.zeros(4, 4))
    with pytest.raises(
        TypeError,
        match=re.escape("generator must be a torch.Generator (e.g. torch.Generator().manual_seed(0)) or None, got int"),
    ):
        data.random_shifts(torch.zeros(2, 1, 4, 4), generator=3)
    shifted = data.random_shifts(torch.ones(2, 1, 4, 4), generator=torch.Generator().manual_seed(0))
    assert shifted.shape == (2, 1, 4, 4)
