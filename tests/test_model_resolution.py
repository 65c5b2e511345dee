"""A model at another input size (cnn_lessons.models.resolution): facts_at against real forward passes.

Every expected number comes from torch: a forward pass on the "meta" device with hooks on the model's top-level
stages (their output shapes) and :func:`cnn_lessons.arithmetic.multiply_adds` (the multiply-adds), so the pure
integer path is checked against what the model really does, refusals included.
"""

import dataclasses
import functools
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cnn_lessons import arithmetic, models
from cnn_lessons.models import ResolutionFacts, facts_at, model_input_size, stage_parameter_counts
from cnn_lessons.models.resolution import _compile_graph

NAMES = list(models.MODELS)
# The smallest square input each model takes (torch confirms each below: it refuses one pixel less). Only
# LeNet-5 has a largest, 35: without global pooling, its head needs C5's map to be exactly 1x1.
SMALLEST = {
    "lenet5": 32,
    "alexnet": 63,
    "vgg16": 32,
    "googlenet": 15,
    "resnet18": 1,
    "resnet50": 1,
    "densenet121": 29,
    "mobilenet_v2": 1,
    "efficientnet_b0": 1,
    "convnext_tiny": 32,
    "xception": 7,
}
LARGEST = {"lenet5": 35}


@functools.cache
def meta_model(name):
    with torch.device("meta"):
        return models.MODELS[name]().eval()


def torch_facts(name, size):
    """(multiply-adds, {stage: output shape without the batch axis}) of a real meta forward at size x size.

    When torch refuses the input, the multiply-adds are None and the stages it never finished are None.
    """
    model = meta_model(name)
    recorded = {}

    def record(stage, module, inputs, output):
        recorded[stage] = tuple(output.shape[1:])

    hooks = [child.register_forward_hook(functools.partial(record, stage)) for stage, child in model.named_children()]
    shape = (model_input_size(name)[0], size, size)
    try:
        with torch.no_grad():
            model(torch.zeros(1, *shape, device="meta"))  # torch itself says whether it takes the input
        total = arithmetic.multiply_adds(model, shape)
    except RuntimeError:
        total = None
    finally:
        for hook in hooks:
            hook.remove()
    return total, {stage: recorded.get(stage) for stage, _ in model.named_children()}


def torch_accepts(name, size):
    return torch_facts(name, size)[0] is not None


def sizes_to_check(name):
    sizes = {model_input_size(name)[1], 64, 97, 160, 299, 512, SMALLEST[name], LARGEST.get(name, 1)}
    return sorted(sizes)


CASES = [(name, size) for name in NAMES for size in sizes_to_check(name)]


@pytest.mark.parametrize(("name", "size"), CASES, ids=[f"{name}-{size}" for name, size in CASES])
def test_facts_at_agrees_with_a_forward_pass(name, size):
    facts = facts_at(name, size)
    total, stages = torch_facts(name, size)
    assert facts.multiply_adds == total
    assert facts.stage_shapes == stages
    assert (facts.problem is None) == (total is not None)
    assert list(facts.stage_shapes) == list(stage_parameter_counts(meta_model(name)))
    assert facts.input_size == (model_input_size(name)[0], size, size)


@pytest.mark.parametrize("name", NAMES)
def test_the_default_size_matches_model_facts(name):
    facts = facts_at(name, model_input_size(name)[1])
    assert facts.problem is None
    assert facts.multiply_adds == models.model_facts(name).multiply_adds
    assert facts.input_size == model_input_size(name)


@pytest.mark.parametrize("name", ["alexnet", "resnet18", "mobilenet_v2"])
@settings(max_examples=10, deadline=None)
@given(size=st.integers(1, 600))
def test_facts_at_agrees_with_torch_at_any_size(name, size):
    facts = facts_at(name, size)
    assert (facts.multiply_adds, facts.stage_shapes) == torch_facts(name, size)


def test_every_model_has_its_smallest_size():
    assert list(SMALLEST) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_smallest_is_where_torch_starts_to_accept(name):
    facts = facts_at(name, 224)
    smallest = facts.smallest
    assert (smallest, facts.largest) == (SMALLEST[name], LARGEST.get(name))
    assert facts_at(name, smallest).problem is None and torch_accepts(name, smallest)
    if smallest > 1:
        below = facts_at(name, smallest - 1)
        assert below.multiply_adds is None and below.problem and f"{smallest}×{smallest}" in below.problem
        assert not torch_accepts(name, smallest - 1)


@pytest.mark.parametrize("name", NAMES)
def test_the_sizes_accepted_are_one_interval(name):
    """Every size from 1 to 600 is accepted exactly when smallest <= size <= largest (None: no upper limit)."""
    facts = facts_at(name, 224)
    largest = facts.largest if facts.largest is not None else 600
    for size in range(1, 601):
        at = facts_at(name, size)
        assert (at.problem is None) == (facts.smallest <= size <= largest), size
        assert (at.multiply_adds is None) == (at.problem is not None), size
        assert (at.smallest, at.largest) == (facts.smallest, facts.largest)


def test_alexnet_needs_63_pixels():
    """The issue's "AlexNet below 63x63": the third max-pool (conv5.2) gets a 2x2 map at 62x62."""
    facts = facts_at("alexnet", 62)
    assert facts_at("alexnet", 224).smallest == 63 and facts.largest is None
    assert facts.multiply_adds is None
    assert facts.problem == (
        "alexnet needs an input of at least 63×63: at 62×62, conv5.2 (3×3 max-pool, stride 2) would get a 2×2 map, "
        "smaller than its window."
    )
    assert facts.stage_shapes["conv4"] == (256, 2, 2) and facts.stage_shapes["conv5"] is None
    assert not torch_accepts("alexnet", 62) and torch_accepts("alexnet", 63)


def test_lenet5_takes_32_to_35_only():
    """No global pooling: C5 must give 120x1x1 for F6's 120 inputs. The 2x2 pools round down, so 33 to 35 still
    give C5 a 5x5 map (33 -> 29 -> 14 -> 10 -> 5); 31 gives it 4x4 and 36 gives it 6x6 (so 120x2x2 = 480 values)."""
    facts = facts_at("lenet5", 32)
    assert (facts.smallest, facts.largest) == (32, 35)
    assert facts.stage_shapes["c5"] == (120, 1, 1) and facts.stage_shapes["output"] == (10,)
    for size in range(32, 36):
        assert facts_at("lenet5", size).problem is None and torch_accepts("lenet5", size)
    head = "It has no global pooling, so f6.1's 120 inputs must be c5.0's 120×1×1 output"
    below = facts_at("lenet5", 31).problem
    assert below.startswith("lenet5 takes only inputs from 32×32 to 35×35: at 31×31, c5.0 (5×5 conv) would get a 4×4")
    assert head in below and "from a 5×5 map" in below
    above = facts_at("lenet5", 36).problem
    assert "at 36×36, c5.0 (5×5 conv) would get a 6×6 map and give 120×2×2 = 480 values" in above
    assert "f6.0 flattens, but f6.1 takes 120 inputs" in above and head in above
    assert not torch_accepts("lenet5", 31) and not torch_accepts("lenet5", 36)


@pytest.mark.parametrize(
    ("name", "size", "error", "words"),
    [
        ("resnet1000", 224, ValueError, "name must be one of"),
        (None, 224, ValueError, "name must be one of"),
        ("resnet18", 0, ValueError, "at least 1 pixel"),
        ("resnet18", -3, ValueError, "at least 1 pixel"),
        ("resnet18", 224.0, TypeError, "whole number of pixels"),
        ("resnet18", True, TypeError, "whole number of pixels"),
        ("resnet18", "224", TypeError, "whole number of pixels"),
        ("resnet18", (224, 224), TypeError, "side of the square input"),
    ],
)
def test_bad_arguments_are_explained(name, size, error, words):
    with pytest.raises(error, match=words):
        facts_at(name, size)


def test_a_numpy_int_is_a_size():
    numpy = pytest.importorskip("numpy")
    assert facts_at("resnet18", numpy.int64(160)) == facts_at("resnet18", 160)


def test_resolution_facts_is_a_frozen_keyword_record_and_cached():
    facts = facts_at("resnet18", 160)
    assert facts is facts_at("resnet18", 160)
    assert [field.name for field in dataclasses.fields(ResolutionFacts)] == [
        "name",
        "input_size",
        "multiply_adds",
        "stage_shapes",
        "problem",
        "smallest",
        "largest",
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.multiply_adds = 0
    with pytest.raises(TypeError):
        ResolutionFacts("resnet18", (3, 1, 1), 0, {}, None, 1, None)


def test_an_unknown_node_is_named():
    class Rolls(nn.Module):
        def forward(self, x):
            return torch.roll(x, 1, dims=2)

    with pytest.raises(NotImplementedError, match="no shape rule for call_function 'roll'"):
        _compile_graph(Rolls(), 3)


def test_a_refused_size_agrees_with_multiply_adds_teaching_error():
    """facts_at's smallest size and multiply_adds' explanation (forward passes on meta tensors) say the same."""
    with pytest.raises(
        ValueError, match=re.escape("This model takes inputs of at least 63×63, e.g. input_size=(3, 63, 63).")
    ):
        arithmetic.multiply_adds(meta_model("alexnet"), (3, 62, 62))
    assert facts_at("alexnet", 62).smallest == 63
