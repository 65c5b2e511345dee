"""Lesson 03's feature maps: the pure helper and the explorer, driven headless.

The expected maps are computed here by calling the model's layers one after the other by hand
(``model.block1.conv(x)``, then ``model.block1.act(...)``, ...), not with ``cnn_lessons.features``.
"""

import io

import matplotlib.figure
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from explorer_checks import artists, watch_drawing
from matplotlib._pylab_helpers import Gcf
from torch import nn

from cnn_lessons import drawing, features
from cnn_lessons.data import load_digits_split
from cnn_lessons.explorers import FeatureMapExplorer, feature_maps
from cnn_lessons.models import SimpleCNN

fmt = drawing.format_number
LAYERS = ["block1.conv", "block1.act", "block1.pool", "block2.conv", "block2.act"]


def small_cnn(seed=0):
    torch.manual_seed(seed)
    return SimpleCNN(in_channels=1, input_size=8, conv_channels=(4, 6), pool=(2, None), hidden=(8,))


def by_hand(model, image):
    """Every conv-block layer's output for one (1, 8, 8) image, layer by layer with the model's own modules."""
    with torch.no_grad():
        x = image[None]
        maps = {}
        for block in ("block1", "block2"):
            for part in ("conv", "act", "pool"):
                module = getattr(model, block)._modules.get(part)
                if module is not None:
                    x = module(x)
                    maps[f"{block}.{part}"] = x[0].clone()
        logits = model.classifier(model.flatten(x))[0]
    return maps, logits


@pytest.fixture(scope="module")
def digits():
    split = load_digits_split()
    return split.test_images[:5], split.test_labels[:5]


def test_feature_maps_are_the_layers_outputs_in_forward_order(digits):
    model, (images, _) = small_cnn(), digits
    for image in images[:2]:
        found = features.activations(model, image)
        expected, logits = by_hand(model, image)
        assert list(found.maps) == LAYERS == list(expected)
        for name in LAYERS:
            assert found.maps[name].shape == expected[name].shape
            assert torch.allclose(found.maps[name], expected[name], atol=1e-6)
        assert torch.allclose(found.logits, logits, atol=1e-6)
    assert [tuple(m.shape) for m in features.feature_maps(model, images[0]).values()] == [
        (4, 8, 8),
        (4, 8, 8),
        (4, 4, 4),
        (6, 4, 4),
        (6, 4, 4),
    ]


def test_feature_maps_take_chosen_layers_and_restore_the_mode(digits):
    model, (images, _) = small_cnn(), digits
    model.train()
    maps = features.feature_maps(model, images[0, 0], layers=["block2.act", "block1.conv"])  # (H, W) works too
    assert list(maps) == ["block1.conv", "block2.act"]  # the order they run in
    assert model.training
    assert not any(m._forward_hooks for m in model.modules())  # the hooks are removed
    with pytest.raises(ValueError, match=r"no layer named 'block9' in the model; its layers are \['block1'"):
        features.feature_maps(model, images[0], layers=["block9"])
    with pytest.raises(ValueError, match=r"layer 'classifier.fc1' does not give a feature map.*shape \(1, 8\)"):
        features.feature_maps(model, images[0], layers="classifier.fc1")
    with pytest.raises(ValueError, match="image must be one image of shape"):
        features.feature_maps(model, images[:2])
    with pytest.raises(ValueError, match=r"images must be a non-empty batch \(N, C, H, W\), got shape \(1, 8, 8\)"):
        features.batch_activations(model, images[0])


def test_an_inplace_activation_does_not_overwrite_the_convolutions_output():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(inplace=True), nn.Flatten(), nn.Linear(48, 2))
    image = torch.randn(1, 4, 4)
    maps = features.feature_maps(model, image)
    assert list(maps) == ["0", "1"]
    with torch.no_grad():
        raw = model[0](image[None])[0]
    assert torch.allclose(maps["0"], raw) and (maps["0"] < 0).any()
    assert torch.allclose(maps["1"], raw.clamp(min=0))


def test_explorer_sweep_shows_the_models_activations_in_place(digits, monkeypatch):
    model, (images, labels) = small_cnn(), digits
    explorer = FeatureMapExplorer(model, images, labels)
    made, redraws = watch_drawing(explorer, monkeypatch)
    fig, before = explorer.fig, artists(explorer.fig)
    assert explorer.layer.options == tuple(LAYERS)
    changes = 0
    for index in (3, 1):
        explorer.image.value = index
        changes += 1
        expected, logits = by_hand(model, images[index])
        shown_input = np.asarray(explorer.view.input_image.get_array())
        assert np.allclose(shown_input, images[index, 0].numpy())
        for name in LAYERS:
            if explorer.layer.value != name:
                explorer.layer.value = name
                changes += 1
            channels, height, width = expected[name].shape
            assert (explorer.channel.min, explorer.channel.max) == (0, channels - 1)
            for channel in range(channels):
                if explorer.channel.value != channel:
                    explorer.channel.value = channel
                    changes += 1
                truth = expected[name][channel].numpy()
                assert explorer.view.shown().shape == (height, width)
                assert np.allclose(explorer.view.shown(), truth, atol=1e-6)
                low, high = explorer.view.map_image.get_clim()
                limit = float(np.abs(truth).max()) or 1.0
                assert np.isclose(high, limit) and np.isclose(low, -limit)
                assert explorer.view.ax_map.get_xlim() == (-0.5, width - 0.5)
                assert f"<b>{name}</b>: {channels} channels of {height}\u00d7{width}" in explorer.readout.value
                assert f"showing channel <b>{channel}</b> (0 to {channels - 1})" in explorer.readout.value
                predicted = int(logits.argmax())
                assert f"label {int(labels[index])}, predicted <b>{predicted}</b>" in explorer.readout.value
                title = explorer.view.map_title.get_text()
                assert title.startswith(f"{name}, channel {channel} (of 0\u2013{channels - 1}): {height}\u00d7{width}")
                check_grid(explorer.view, expected[name], channel)
    assert len(redraws) == changes  # one redraw per change
    assert made == []  # no figure made by a callback
    assert explorer.fig is fig and explorer.canvas.figure is fig
    assert artists(fig) == before  # the same artists, none added or removed
    explorer.close()


def check_grid(view, maps, channel):
    """The grid shows every channel of ``maps`` (one tile each, enlarged by a whole factor), ``channel`` outlined."""
    channels, height, width = maps.shape
    limit = float(maps.abs().max()) or 1.0
    assert view.grid_image.get_clim() == pytest.approx((-limit, limit))
    for c in range(channels):
        tile = torch.as_tensor(view.tile(c))
        scale = tile.shape[0] // height
        assert tile.shape == (scale * height, scale * width) and scale * min(height, width) >= 8
        # the tile is the map, each value a scale x scale block (undone here by average pooling)
        assert torch.allclose(F.avg_pool2d(tile[None], scale)[0], maps[c], atol=1e-6)
    top, left, tile_height, tile_width = view.outlined()
    shown = torch.as_tensor(np.asarray(view.grid_image.get_array())[top : top + tile_height, left : left + tile_width])
    assert torch.equal(shown, torch.as_tensor(view.tile(channel)))
    assert view.grid_title.get_text() == f"all {channels} channels, one scale: \u00b1{fmt(float(maps.abs().max()))}"


def test_channel_mosaic_tiles_every_channel_in_rows():
    maps = torch.randn(7, 3, 5, generator=torch.Generator().manual_seed(0))
    mosaic = feature_maps.channel_mosaic(maps, min_tile=6, gap=1)
    assert (mosaic.rows, mosaic.cols, mosaic.scale, mosaic.tile) == (3, 3, 2, (6, 10))  # 7 channels: 3 columns
    assert mosaic.picture.shape == (3 * 7 - 1, 3 * 11 - 1) and mosaic.picture.dtype == np.float32
    picture = torch.as_tensor(mosaic.picture)
    covered = torch.zeros(picture.shape, dtype=torch.bool)
    for c in range(7):
        top, left = (c // 3) * 7, (c % 3) * 11
        assert mosaic.origins[c] == (top, left)
        block = picture[top : top + 6, left : left + 10]
        want = torch.kron(maps[c], torch.ones(2, 2))  # each value as a 2x2 block, built another way
        assert torch.equal(block, want)
        covered[top : top + 6, left : left + 10] = True
    assert torch.isnan(picture[~covered]).all()  # gaps and the two unused tiles
    assert mosaic.limit == pytest.approx(float(maps.abs().max()))
    assert feature_maps.channel_mosaic(torch.ones(1, 8, 8)).picture.shape == (8, 8)  # one channel, no gap
    with pytest.raises(ValueError, match=r"non-empty stack \(C, H, W\) of feature maps, got shape \(8, 8\)"):
        feature_maps.channel_mosaic(torch.ones(8, 8))
    with pytest.raises(ValueError, match="min_tile must be at least 1 and gap at least 0"):
        feature_maps.channel_mosaic(maps, gap=-1)


def test_channel_mosaic_is_pure_data():
    from test_package_shape import check_pure  # imported here: the project's purity check, not a second one

    check_pure(feature_maps.channel_mosaic)


def test_channel_slider_follows_the_layer(digits):
    model, (images, _) = small_cnn(), digits
    explorer = FeatureMapExplorer(model, images, layer="block2.conv", channel=5)
    assert explorer.channel.value == 5 and explorer.channel.max == 5
    explorer.layer.value = "block1.act"  # 4 channels: channel 5 does not exist there
    assert (explorer.channel.value, explorer.channel.max) == (3, 3)
    expected, _ = by_hand(model, images[0])
    assert np.allclose(explorer.view.shown(), expected["block1.act"][3].numpy(), atol=1e-6)
    explorer.layer.value = "block2.act"
    assert (explorer.channel.value, explorer.channel.max) == (3, 5)
    explorer.close()


def test_each_image_is_run_through_the_model_once(digits):
    model, (images, _) = small_cnn(), digits
    batches = []
    model.register_forward_hook(lambda module, args, output: batches.append(len(args[0])))
    explorer = FeatureMapExplorer(model, images)
    for index in (1, 2, 1, 0, 2, 4):
        explorer.image.value = index
        for name in LAYERS:
            explorer.layer.value = name
    assert batches == [1, len(images) - 1]  # the first image alone, then the rest together: once each
    explorer.close()


def test_images_are_computed_in_chunks_that_fit_the_memory_budget(monkeypatch):
    split = load_digits_split()
    model, images = small_cnn(), split.test_images[:11]
    batches = []
    model.register_forward_hook(lambda module, args, output: batches.append(args[0].clone()))
    explorer = FeatureMapExplorer(model, images, image=5)
    per_image = sum(m.numel() * m.element_size() for m in explorer.activations().maps.values())
    monkeypatch.setattr(explorer, "CHUNK_BYTES", 4 * per_image)  # room for 4 images' maps at a time
    explorer.image.value = 6  # 4..7, less 5 (done)
    explorer.image.value = 10  # 8..10
    explorer.image.value = 7  # done already
    assert [len(batch) for batch in batches] == [1, 3, 3]
    assert torch.equal(batches[1], images[[4, 6, 7]]) and torch.equal(batches[2], images[8:11])
    for index in (4, 6, 7, 8, 10):  # the chunk's maps are each image's own
        expected, logits = by_hand(model, images[index])
        found = explorer.activations(index)
        for name in LAYERS:
            assert torch.allclose(found.maps[name], expected[name], atol=1e-6)
        assert torch.allclose(found.logits, logits, atol=1e-6)
    explorer.close()


def test_explorer_displays_as_a_widget_box_with_a_short_repr(digits):
    from ipympl.backend_nbagg import Canvas

    model, (images, _) = small_cnn(), digits
    explorer = FeatureMapExplorer(model, images[:, 0])  # (N, H, W) works too
    bundle = explorer._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.box.model_id
    assert bundle["text/plain"] == repr(explorer) == "FeatureMapExplorer(image=0, layer='block1.conv', channel=0)"
    assert isinstance(explorer.canvas, Canvas) and explorer.canvas in explorer.box.children
    assert Gcf.get_num_fig_managers() == 0  # not registered with pyplot
    assert "label" not in explorer.readout.value  # no labels given
    static = explorer.static_figure()
    assert isinstance(static, matplotlib.figure.Figure) and static is not explorer.fig
    static.savefig(io.BytesIO(), format="png")
    explorer.fig.savefig(io.BytesIO(), format="png")
    explorer.close()


def test_a_dead_channel_is_said_so_and_rgb_inputs_show():
    torch.manual_seed(0)
    model = SimpleCNN(in_channels=3, input_size=6, conv_channels=(2,), pool=None, hidden=())
    with torch.no_grad():
        model.block1.conv.bias[1] = -100.0  # channel 1 is never positive after the ReLU
    images = torch.rand(2, 3, 6, 6)
    explorer = FeatureMapExplorer(model, images, layer="block1.act", channel=1)
    assert np.all(explorer.view.shown() == 0)
    assert explorer.view.map_title.get_text().endswith("0 everywhere for this image")
    assert explorer.view.map_image.get_clim() == (-1.0, 1.0)
    assert np.asarray(explorer.view.input_image.get_array()).shape == (6, 6, 3)
    explorer.close()


def test_explorer_explains_bad_arguments(digits):
    model, (images, labels) = small_cnn(), digits
    with pytest.raises(ValueError, match=r"layer must be one of \['block1.conv'"):
        FeatureMapExplorer(model, images, layer="block3.conv")
    with pytest.raises(ValueError, match="image must be an index from 0 to 4"):
        FeatureMapExplorer(model, images, image=5)
    with pytest.raises(ValueError, match="labels must give one class per image"):
        FeatureMapExplorer(model, images, labels[:3])
    with pytest.raises(ValueError, match="no layer whose output is a feature map"):
        FeatureMapExplorer(nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), images)
