"""Facts about the models (cnn_lessons.models.facts): model_facts, model_input_size and summary_text.

Expected numbers are the published ones or are summed here by hand from the models' parameters.
"""

import dataclasses
import re

import pytest
import torch
import torchinfo
from torch import nn

from cnn_lessons import models
from cnn_lessons.models import ModelFacts, SimpleCNN, count_parameters, model_facts, model_input_size, summary_text

NAMES = list(models.MODELS)


def build_meta(name):
    with torch.device("meta"):
        return models.MODELS[name]()


def params_by_hand(model):
    return sum(p.numel() for p in model.parameters())


def total_params_in(text):
    """The number after "Total params:" in a torchinfo table."""
    (match,) = re.findall(r"^Total params: ([\d,]+)$", text, flags=re.MULTILINE)
    return int(match.replace(",", ""))


# --- model_facts ---------------------------------------------------------------------------------------------


def test_model_facts_numbers():
    facts = model_facts("resnet18")
    assert facts.input_size == model_input_size("resnet18") == (3, 224, 224)
    assert model_input_size("lenet5") == (1, 32, 32)
    assert facts.parameters == 11_689_512 == sum(facts.stages.values())
    assert facts.multiply_adds == 1_814_073_344  # 1.8 G, as the ResNet paper's Table 1 rounds it
    with pytest.raises(ValueError, match="name must be one of"):
        model_facts("resnet1000")


def test_model_facts_xception_on_299():
    """Xception is summarised on the 3x299x299 images it was published at (Chollet, arXiv:1610.02357)."""
    facts = model_facts("xception")
    assert facts.input_size == model_input_size("xception") == (3, 299, 299)
    assert facts.parameters == 22_855_952 == sum(facts.stages.values())
    assert facts.multiply_adds == 8_357_403_496  # summed layer by layer in test_models.py
    assert facts.receptive_field == 1083  # summed by hand from the layer list in test_models.py
    assert "[1, 2048, 10, 10]" in facts.summary and "[1, 64, 147, 147]" in facts.summary
    assert re.search(r"^Total mult-adds \(G\): 8\.36$", facts.summary, flags=re.MULTILINE)


@pytest.mark.parametrize("name", NAMES)
def test_model_facts_agree_with_the_model(name):
    model = build_meta(name)
    facts = model_facts(name)
    assert facts.name == name
    assert facts.parameters == params_by_hand(model) == total_params_in(facts.summary)
    assert facts.stages == {child_name: params_by_hand(child) for child_name, child in model.named_children()}
    assert "Units." not in facts.summary
    for stage in facts.stages:  # row_settings=("var_names",): each stage's row shows its name
        assert f"({stage})" in facts.summary
    assert "│    └─" not in facts.summary  # depth=1: no rows for the layers inside a stage
    assert re.search(r"^Total mult-adds \([MGT]\): ", facts.summary, flags=re.MULTILINE)


def test_model_facts_is_a_frozen_record_built_by_keyword_and_cached():
    facts = model_facts("lenet5")
    assert facts is model_facts("lenet5")
    assert [field.name for field in dataclasses.fields(ModelFacts)] == [
        "name",
        "input_size",
        "parameters",
        "multiply_adds",
        "stages",
        "summary",
        "receptive_field",
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.parameters = 0
    with pytest.raises(TypeError):
        ModelFacts("lenet5", (1, 32, 32), 1, 1, {}, "", 32)  # positional arguments are refused
    assert dataclasses.replace(facts, summary="") == ModelFacts(**{**dataclasses.asdict(facts), "summary": ""})


# --- summary_text --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, unit",
    [
        ("lenet5", "M"),  # about 0.4 million multiply-adds on a 1x32x32 input
        ("resnet18", "G"),  # 1.8 billion on 3x224x224 (He et al., arXiv:1512.03385, Table 1)
    ],
)
def test_summary_text_writes_the_unit(name, unit):
    model = build_meta(name)
    text = summary_text(model, (1, *model_input_size(name)))
    assert "Units." not in text
    assert re.search(rf"^Total mult-adds \({unit}\): \d+\.\d\d$", text, flags=re.MULTILINE)
    assert total_params_in(text) == count_parameters(model) == params_by_hand(model)


def test_summary_text_changes_only_the_unit():
    """Every line but the mult-adds line is torchinfo's own, unchanged."""
    model = SimpleCNN()
    text = summary_text(model, (1, 3, 32, 32))
    raw = str(torchinfo.summary(model, input_size=(1, 3, 32, 32), verbose=0, device="cpu"))
    lines, raw_lines = text.splitlines(), raw.splitlines()
    assert len(lines) == len(raw_lines)
    changed = [(ours, theirs) for ours, theirs in zip(lines, raw_lines, strict=True) if ours != theirs]
    assert all(ours.startswith("Total mult-adds (M): ") for ours, _ in changed)
    assert all(theirs.startswith("Total mult-adds (") for _, theirs in changed)
    assert total_params_in(text) == count_parameters(model) == 224 + 1168 + 32800 + 330  # lesson 03's count


def test_summary_text_passes_torchinfo_keywords_on():
    model = SimpleCNN()
    shallow = summary_text(model, (1, 3, 32, 32), depth=1)
    deep = summary_text(model, (1, 3, 32, 32), depth=2, col_names=("output_size", "num_params", "kernel_size"))
    assert "Conv2d" not in shallow and "Conv2d" in deep  # the convs sit at depth 2, inside block1 and block2
    assert "Kernel Shape" in deep and "Kernel Shape" not in shallow
    with pytest.raises(TypeError):
        summary_text([nn.Linear(2, 2)], (1, 2))


def test_summary_text_runs_where_the_model_is():
    """Without ``device``, the model is not moved (torchinfo would move it to a GPU, or fail on meta)."""
    meta = build_meta("resnet18")
    assert total_params_in(summary_text(meta, (1, 3, 224, 224), depth=1)) == 11_689_512
    assert next(meta.parameters()).device.type == "meta"
    model = SimpleCNN()
    summary_text(model, (1, 3, 32, 32))
    assert {p.device.type for p in model.parameters()} == {"cpu"}
    assert "Total params: 0" in summary_text(nn.Flatten(), (1, 2, 3))  # no parameters: on the CPU


# --- errors that teach --------------------------------------------------------------------------------------


@pytest.mark.parametrize("helper", [model_facts, model_input_size, models.facts_at])
def test_a_misspelt_name_gets_the_list_and_the_name_meant(helper):
    arguments = () if helper is not models.facts_at else (224,)
    with pytest.raises(
        ValueError, match=re.escape(f"name must be one of {NAMES}, got 'AlexNet'; did you mean 'alexnet'?")
    ):
        helper("AlexNet", *arguments)
    with pytest.raises(ValueError, match=re.escape("got 'MobileNet-V2'; did you mean 'mobilenet_v2'?")):
        helper("MobileNet-V2", *arguments)
    with pytest.raises(ValueError, match=re.escape(f"name must be one of {NAMES}, got 'resnet1000'") + "$"):
        helper("resnet1000", *arguments)
    with pytest.raises(ValueError, match=re.escape("got 18") + "$"):
        helper(18, *arguments)


def test_count_parameters_needs_a_module():
    with pytest.raises(TypeError, match=r"count_parameters needs an nn.Module \(a model or a layer\), got str"):
        count_parameters("alexnet")


def test_summary_text_wants_the_batch_axis():
    with pytest.raises(ValueError) as caught:
        summary_text(build_meta("alexnet"), (3, 224, 224))
    assert str(caught.value) == (
        "input_size for summary_text includes the batch axis (torchinfo's convention), but (3, 224, 224) has 3 "
        "axes and the model's first convolution takes batches of 4; use input_size=(1, 3, 224, 224)"
    )
    assert "Total params" in summary_text(build_meta("alexnet"), (1, 3, 224, 224))


def test_summary_text_explains_an_input_too_small_instead_of_torchinfos_error():
    model = build_meta("alexnet").eval()
    with pytest.raises(RuntimeError, match="Failed to run torchinfo"):
        torchinfo.summary(model, input_size=(1, 3, 16, 16), verbose=0, device="meta")
    with pytest.raises(ValueError) as caught:
        summary_text(model, (1, 3, 16, 16))
    message = str(caught.value)
    assert message.startswith("the model (Sequential) cannot take input_size=(1, 3, 16, 16): layer conv2.2 (MaxPool2d")
    assert message.endswith("This model takes inputs of at least 63×63, e.g. input_size=(1, 3, 63, 63).")
    summary_text(model, (1, 3, 63, 63))
    with pytest.raises(RuntimeError, match="Failed to run torchinfo"):
        torchinfo.summary(model, input_size=(1, 3, 62, 62), verbose=0, device="meta")
