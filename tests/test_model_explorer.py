"""Lesson 04's pictures: the block diagrams and the model explorer, driven headless.

The explorer's expected numbers are computed here from the models directly (parameters of each top-level
child, summed by hand), not with ``models.stage_parameter_counts`` or ``models.model_facts``.
"""

import io
import re

import matplotlib.figure
import pytest
import torch
from explorer_checks import artists, watch_drawing
from matplotlib._pylab_helpers import Gcf
from matplotlib.backends.backend_agg import FigureCanvasAgg
from test_model_resolution import torch_facts  # a real meta forward pass: shapes and multiply-adds by torch
from torch import nn

from cnn_lessons import block_diagrams, drawing, explorers, models
from cnn_lessons.explorers import ModelExplorer
from cnn_lessons.models import model_facts

NAMES = list(models.MODELS)


def build_meta(name):
    with torch.device("meta"):
        return models.MODELS[name]()


def stages_by_hand(model):
    return {name: sum(p.numel() for p in child.parameters()) for name, child in model.named_children()}


def value_labels(view):
    return [t.get_text() for t in view.values if t.get_visible()]


def shown_bars(view):
    """(stage name, bar height) for every visible bar, read from the artists."""
    return [
        (label.get_text(), bar.get_height())
        for bar, label in zip(view.bars, view.names, strict=True)
        if bar.get_visible()
    ]


# --- the model explorer ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def explorer():
    explorer = ModelExplorer()
    yield explorer
    explorer.close()


def test_every_model_shows_its_stages_and_summary(explorer, monkeypatch):
    made, redraws = watch_drawing(explorer, monkeypatch)
    fig, before = explorer.fig, artists(explorer.fig)
    assert explorer.model.options == tuple(NAMES)
    for name in [*NAMES[1:], NAMES[0], "resnet18"]:  # resnet18 is shown first: end on it, after a change
        explorer.model.value = name
        model = build_meta(name)
        expected = stages_by_hand(model)
        total = sum(p.numel() for p in model.parameters())
        assert shown_bars(explorer.view) == [(stage, float(count)) for stage, count in expected.items()]
        assert explorer.view.shown() == expected == models.stage_parameter_counts(model)
        side = models.model_input_size(name)[1]
        assert explorer.size.value == side  # a new model starts at its own size
        shapes = torch_facts(name, side)[1]
        assert value_labels(explorer.view) == [
            f"{drawing.format_count(c)}\n{explorers.shape_label(shapes.get(stage))}" for stage, c in expected.items()
        ]
        assert f"Total params: {total:,}" in explorer.summary.value
        assert f"{total:,} parameters" in explorer.header.value
        size = "\u00d7".join(map(str, models.model_input_size(name)))
        assert explorer.view.title.get_text().startswith(f"{name} at {size}: {total:,} parameters")
        assert not any(bar.get_visible() for bar in explorer.view.bars[len(expected) :])
    assert len(redraws) == len(NAMES) + 1  # one redraw per change
    assert made == []  # no figure made by a callback
    assert explorer.fig is fig and explorer.canvas.figure is fig
    assert artists(fig) == before  # the same artists, none added or removed


def test_summary_is_torchinfo_with_stage_names(explorer):
    explorer.model.value = "vgg16"
    text = explorer.facts.summary
    assert text in explorer.summary.value.replace("&gt;", ">").replace("&lt;", "<").replace("&#x27;", "'")
    assert "Units." not in text and "Total mult-adds (G): " in text  # the unit written as torchinfo meant it
    assert re.search(r"├─Sequential \(classifier\)\s+\[1, 1000\]\s+123,642,856", text)
    assert "<pre" in explorer.summary.value
    assert "one 3\u00d7224\u00d7224 input: 15.47 G multiply-adds" in explorer.header.value
    explorer.model.value = "lenet5"
    assert "one 1\u00d732\u00d732 input" in explorer.header.value
    assert "Total params: 61,706" in explorer.summary.value
    assert re.search(r"Output Shape.*\n.*\n.*\[1, 10\]", explorer.summary.value)


def test_facts_are_cached_and_quick_after_the_first_time(explorer):
    import time

    model_facts("densenet121")
    start = time.perf_counter()
    explorer.model.value = "densenet121"
    explorer.model.value = "resnet18"
    assert time.perf_counter() - start < 1.0
    assert model_facts("densenet121") is model_facts("densenet121")


def test_explorer_displays_as_a_widget_box(explorer):
    from ipympl.backend_nbagg import Canvas

    explorer.model.value = "resnet18"
    bundle = explorer._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.box.model_id
    assert bundle["text/plain"] == repr(explorer) == "ModelExplorer(model='resnet18', size=224)"
    assert isinstance(explorer.canvas, Canvas) and explorer.canvas in explorer.box.children
    assert explorer.canvas.manager is not None and explorer.canvas.toolbar is not None
    assert Gcf.get_num_fig_managers() == 0  # not registered with pyplot


def test_explorer_bad_model_name_or_size():
    with pytest.raises(ValueError, match="model must be one of"):
        ModelExplorer("resnet1000")
    with pytest.raises(ValueError, match="size must be between 32 and 512 pixels, got 10"):
        ModelExplorer("resnet18", size=10)


def test_the_size_slider_updates_shapes_and_cost_in_place(explorer, monkeypatch):
    explorer.model.value = "resnet18"
    made, redraws = watch_drawing(explorer, monkeypatch)
    before = artists(explorer.fig)
    for side in (160, 97, 512):
        explorer.size.value = side
        macs, shapes = torch_facts("resnet18", side)
        assert f"one 3\u00d7{side}\u00d7{side} input: {macs / 1e9:.2f} G multiply-adds" in explorer.header.value
        assert [label.split("\n")[1] for label in value_labels(explorer.view)] == [
            explorers.shape_label(shapes[stage]) for stage in explorer.view.shown()
        ]
    assert "receptive field 435 px" in explorer.header.value and "a 435\u00d7435 patch" in explorer.header.value
    explorer.size.value = 224
    assert "as wide as the image: the central positions" in explorer.header.value
    assert len(redraws) == 4 and made == [] and artists(explorer.fig) == before


def test_a_size_the_model_refuses_is_explained(explorer):
    explorer.model.value = "alexnet"
    explorer.size.value = 62
    assert "63" in explorer.header.value and "multiply-adds" not in explorer.header.value
    assert value_labels(explorer.view)[-1].endswith("\u2014")  # the classifier is never reached
    explorer.size.value = 63
    assert "one 3\u00d763\u00d763 input" in explorer.header.value
    assert torch_facts("alexnet", 62)[0] is None  # torch agrees: 62 fails, 63 works
    assert torch_facts("alexnet", 63)[1]["classifier"] == (1000,)
    explorer.model.value = "resnet18"


def test_stage_view_hides_unused_bars_and_explains_too_many_stages():
    fig = matplotlib.figure.Figure(figsize=(6, 3))
    view = explorers.StageParameterView(fig, max_stages=4)
    view.update({"a": 10, "pool": 0, "b": 30}, "toy")
    assert shown_bars(view) == [("a", 10.0), ("pool", 0.0), ("b", 30.0)]
    assert not view.bars[3].get_visible() and not view.names[3].get_visible()
    assert view.ax.get_ylim()[1] > 30
    assert view.title.get_text() == "toy: 40 parameters by stage; the largest, b, holds 75%"
    assert view.bars[2].get_facecolor() != view.bars[0].get_facecolor()  # the largest stage stands out
    view.update({"only": 5}, "one")
    assert shown_bars(view) == [("only", 5.0)]
    with pytest.raises(ValueError, match="has 5 stages but the chart was made with room for 4"):
        view.update({str(i): i for i in range(5)}, "big")
    fig.savefig(io.BytesIO(), format="png")


@pytest.mark.parametrize(
    "count, text", [(0, "0"), (156, "156"), (9_536, "9.5 k"), (590_080, "590.1 k"), (123_642_856, "123.6 M")]
)
def test_format_count(count, text):
    assert drawing.format_count(count) == text


# --- the block diagrams ------------------------------------------------------------------------------------------

# layer boxes each default diagram draws (convolutions, pools, norms), counted from the blocks by hand
EXPECTED_BOXES = {
    "basic": 2,  # 3x3, 3x3
    "bottleneck": 4,  # 1x1, 3x3, 1x1 and the 1x1 projection (64 -> 256 channels)
    "inception": 7,  # 1x1 | 1x1, 3x3 | 1x1, 3x3 | pool, 1x1
    "dense": 6,  # 2 x (1x1, 3x3), transition 1x1 and average pool
    "depthwise_separable": 3,  # the standard 3x3 beside depthwise 3x3 + pointwise 1x1
    "inverted_residual_se": 6,  # expand, depthwise, SE pool, SE squeeze, SE excite, project
    "convnext": 5,  # 7x7 depthwise, LayerNorm, 1x1, 1x1, layer scale
}


def draw(spec):
    fig = matplotlib.figure.Figure(figsize=drawing.diagram_size(spec))
    FigureCanvasAgg(fig)  # so that the test can measure the text
    ax = fig.add_axes((0, 0, 1, 1))
    return fig, drawing.draw_block_diagram(ax, spec)


def inside(inner, outer, tolerance=0.5):
    return (
        inner.x0 >= outer.x0 - tolerance
        and inner.x1 <= outer.x1 + tolerance
        and inner.y0 >= outer.y0 - tolerance
        and inner.y1 <= outer.y1 + tolerance
    )


def test_there_is_a_diagram_for_every_block():
    assert set(block_diagrams.BLOCK_DIAGRAMS) == set(EXPECTED_BOXES)


@pytest.mark.parametrize("name", EXPECTED_BOXES)
def test_diagram_draws_one_box_per_layer_and_fits(name):
    spec = block_diagrams.BLOCK_DIAGRAMS[name]()
    fig, diagram = draw(spec)
    assert len(diagram.boxes) == len(spec.layers) == EXPECTED_BOXES[name]
    assert set(diagram.boxes) == {node.key for node in spec.layers}
    assert len(diagram.arrows) == len(spec.edges)
    assert diagram.scale == pytest.approx(1.0, rel=1e-3)  # diagram_size rounds to 0.001 inch
    fig.savefig(io.BytesIO(), format="png")  # draws without error
    renderer = fig.canvas.get_renderer()
    figure_box = fig.bbox
    for key, box in diagram.boxes.items():  # every label fits in its box, every box in the figure
        box_extent = box.get_window_extent(renderer)
        assert inside(box_extent, figure_box)
        for texts in (diagram.texts, diagram.notes):
            if key in texts:
                assert inside(texts[key].get_window_extent(renderer), box_extent), (name, key)
    assert inside(diagram.title.get_window_extent(renderer), figure_box)
    for text in diagram.ax.texts:
        assert inside(text.get_window_extent(renderer), figure_box), (name, text.get_text())


def test_diagram_shrinks_with_its_axes():
    spec = block_diagrams.basic_block_spec()
    width, height = drawing.diagram_size(spec)
    fig = matplotlib.figure.Figure(figsize=(width, height))
    diagram = drawing.draw_block_diagram(fig.add_axes((0, 0, 0.5, 0.5)), spec)
    assert diagram.scale == pytest.approx(0.5, rel=1e-3)
    assert diagram.title.get_fontsize() == pytest.approx(5.0, rel=1e-3)
    assert drawing.diagram_size(spec, scale=2) == pytest.approx((2 * width, 2 * height), abs=0.002)


@pytest.mark.parametrize(
    "spec, boxes, skips",
    [
        (block_diagrams.bottleneck_spec(256, 64), 3, 1),  # identity shortcut: no projection box
        (block_diagrams.bottleneck_spec(256, 128, stride=2), 4, 0),
        (block_diagrams.dense_block_spec(num_layers=3), 8, 3),
        (block_diagrams.inverted_residual_se_spec(24, 40, kernel_size=5, stride=2), 6, 0),  # no residual
        (block_diagrams.basic_block_spec(128), 2, 1),
    ],
)
def test_diagram_variants(spec, boxes, skips):
    _, diagram = draw(spec)
    assert len(diagram.boxes) == boxes
    assert sum(edge.route == "skip" for edge in spec.edges) == skips


def _block_layers(module):
    """(kernel size, output channels) of every conv and linear layer of ``module``, in order."""
    layers = []
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            layers.append((m.kernel_size[0], m.out_channels))
        elif isinstance(m, nn.Linear):  # ConvNeXt's 1x1 convs are nn.Linear on channels-last maps
            layers.append((1, m.out_features))
    return layers


def _diagram_layers(spec, col=None):
    layers = []
    for node in spec.nodes:
        match = re.fullmatch(r"(\d+)\u00d7\1 (?:depthwise )?conv, (\d+)(, stride \d+)?", node.text)
        if match and (col is None or node.col == col):
            layers.append((int(match.group(1)), int(match.group(2))))
    return layers


@pytest.mark.parametrize(
    "spec, block, col",
    [
        (block_diagrams.basic_block_spec(64), models.BasicBlock(64, 64), None),
        (block_diagrams.basic_block_spec(128), models.BasicBlock(128, 128), None),
        (block_diagrams.bottleneck_spec(64, 64), models.Bottleneck(64, 64), None),
        (block_diagrams.bottleneck_spec(512, 256, stride=2), models.Bottleneck(512, 256, stride=2), None),
        (block_diagrams.inception_spec(), models.Inception(192, *models.GOOGLENET_INCEPTIONS["3a"]), None),
        (
            block_diagrams.inception_spec(480, *models.GOOGLENET_INCEPTIONS["4a"]),
            models.Inception(480, 192, 96, 208, 16, 48, 64),
            None,
        ),
        (
            block_diagrams.dense_block_spec(64, 32, 4, 2),
            nn.Sequential(models.DenseBlock(2, 64), models.Transition(128, 64)),
            None,
        ),
        (block_diagrams.depthwise_separable_spec(32, 64), models.DepthwiseSeparableConv(32, 64), 1),
        (block_diagrams.inverted_residual_se_spec(24, 24, 3, 6), models.MBConv(24, 24, 3, 1, 6), None),
        (block_diagrams.inverted_residual_se_spec(40, 80, 3, 6, stride=2), models.MBConv(40, 80, 3, 2, 6), None),
        (block_diagrams.convnext_block_spec(96), models.ConvNeXtBlock(96), None),
    ],
)
def test_diagram_shows_the_blocks_layers(spec, block, col):
    """Kernel sizes and channels written in the boxes are those of the block in ``cnn_lessons.models``."""
    assert _diagram_layers(spec, col) == _block_layers(block)


def test_inception_diagram_concatenates_to_the_blocks_width():
    block = models.Inception(192, *models.GOOGLENET_INCEPTIONS["3a"])
    (concat,) = [node for node in block_diagrams.inception_spec().nodes if node.kind == "concat"]
    assert concat.text.endswith(f"= {block.out_channels} ch") and block.out_channels == 256


def test_bad_specs_are_explained():
    node = drawing.DiagramNode
    with pytest.raises(ValueError, match="kind must be one of"):
        drawing.DiagramSpec("t", (node("a", "convolution"),))
    with pytest.raises(ValueError, match="names unknown nodes"):
        drawing.DiagramSpec("t", (node("a", "conv"),), (drawing.DiagramEdge("a", "b"),))
    with pytest.raises(ValueError, match="node keys must be unique"):
        drawing.DiagramSpec("t", (node("a", "conv"), node("a", "pool")))
    with pytest.raises(ValueError, match="route must be one of"):
        drawing.DiagramSpec("t", (node("a", "conv"), node("b", "conv")), (drawing.DiagramEdge("a", "b", "jump"),))
