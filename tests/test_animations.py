"""Animations for slides: an explorer's tour as a GIF (frames, sizes, the same bytes every run), the committed
assets/animations checked byte for byte, the guide's classic figures agreeing with their relationships and torch."""

from __future__ import annotations

import io
import shutil
import typing

import ipywidgets as widgets
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from cnn_lessons import animations, explorers
from cnn_lessons.cli import ANIMATIONS_DIR, main
from cnn_lessons.explorers import animation

# the two smallest committed animations, drawn again here byte for byte; `make test-class` draws all of them
QUICK = ("guide-no-padding", "guide-transposed")


def decoded(data: bytes) -> list[np.ndarray]:
    """Every frame of a GIF as an RGB array."""
    frames = []
    with Image.open(io.BytesIO(data)) as image:
        for n in range(image.n_frames):
            image.seek(n)
            frames.append(np.asarray(image.convert("RGB")))
    return frames


@pytest.fixture
def explorer():
    made = explorers.ConvArithmeticExplorer(size=5, kernel_size=3, padding=1, stride=2)
    yield made
    made.close()


# --- the tour ------------------------------------------------------------------------------------------------


def test_a_tour_has_one_frame_per_value_all_of_one_size(explorer):
    frames = animation.tour_frames(explorer, "stride")
    assert len(frames) == len(animation.tour_values(explorer.stride)) == 4
    assert len({frame.shape for frame in frames}) == 1
    width, height = (int(round(n)) for n in explorer.fig.get_size_inches() * animation.FRAME_DPI)
    assert frames[0].shape == (height + animation.CAPTION_PX, width, 3)  # the picture and one caption line
    assert not np.array_equal(frames[0], frames[1]), "moving the stride changes the picture"


def test_each_frame_is_the_live_picture_after_the_move(explorer):
    frames = animation.tour_frames(explorer, "stride", values=[1, 3], caption=False)
    explorer.stride.value = 3
    assert np.array_equal(frames[1], animation._rgb(explorer.fig))
    assert explorer.canvas is explorer.fig.canvas, "drawing the frames leaves the live canvas in place"


def test_the_control_gets_its_value_back(explorer):
    animation.tour_frames(explorer, "kernel_size", values=[1, 2])
    assert explorer.kernel_size.value == 3


def test_values_of_each_kind_of_control(explorer):
    assert animation.tour_values(explorer.padding_choice) == ["custom", "valid", "same", "full"]
    assert animation.tour_values(explorer.size) == list(range(1, 10))
    assert animation.tour_values(widgets.Checkbox()) == [False, True]
    assert animation.tour_values(widgets.FloatSlider(min=0.0, max=1.0, step=0.25)) == [0, 0.25, 0.5, 0.75, 1.0]


def test_captions(explorer):
    assert animation.caption_text(explorer.stride, "stride", 2) == "stride = 2"
    frames = animation.tour_frames(explorer, "stride", values=[1], caption=lambda v: f"one\nstride {v}")
    plain = animation.tour_frames(explorer, "stride", values=[1], caption=False)
    assert frames[0].shape[0] == plain[0].shape[0] + 2 * animation.CAPTION_PX
    assert np.array_equal(frames[0][2 * animation.CAPTION_PX :], plain[0])
    assert (frames[0][: 2 * animation.CAPTION_PX] < 128).any(), "the caption is written"


def test_a_control_that_is_not_there_is_named_with_those_that_are(explorer):
    with pytest.raises(ValueError, match=r"no control 'strides'.*'stride'.*'dilation'"):
        animation.tour_frames(explorer, "strides")
    with pytest.raises(TypeError, match="not a HTML"):
        animation.tour_frames(explorer, explorer.readout)
    with pytest.raises(ValueError, match="at least one value"):
        animation.tour_frames(explorer, "stride", values=[])


def test_animate_writes_a_gif(explorer, tmp_path):
    path = explorer.animate(tmp_path / "stride.gif", control="stride", values=[1, 2, 3])
    data = path.read_bytes()
    assert data[:6] == b"GIF89a" and animation.gif_frame_count(data) == 3
    with Image.open(path) as image:
        assert image.info["duration"] == animation.FRAME_MS and image.info["loop"] == 0


def test_animate_names_the_formats_it_writes(explorer, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"\.gif \(always\) or \.mp4"):
        explorer.animate(tmp_path / "stride.png", "stride")
    monkeypatch.setattr(animation.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="needs ffmpeg.*a .gif works everywhere"):
        explorer.animate(tmp_path / "stride.mp4", "stride")
    assert not (tmp_path / "stride.mp4").exists()


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed (GIFs need only Pillow)")
def test_animate_writes_an_mp4_with_ffmpeg(explorer, tmp_path):
    path = explorer.animate(tmp_path / "stride.mp4", "stride", values=[1, 2])
    assert path.stat().st_size > 0 and path.read_bytes()[4:8] == b"ftyp"


def test_every_explorer_has_a_control_to_tour():
    def made(make):  # the class itself, its example() or a function returning one
        make = getattr(make, "__self__", make)
        return make if isinstance(make, type) else typing.get_type_hints(make)["return"]

    covered = {made(tour.make) for tour in animations.TOURS.values()}
    lessons = {cls for cls in explorers.registered() if cls.__module__.startswith("cnn_lessons.")}  # not tests' own
    assert lessons <= covered, f"{sorted(c.__name__ for c in lessons - covered)} have no tour in assets/animations"


# --- the GIF -----------------------------------------------------------------------------------------------------


def test_the_same_frames_give_the_same_bytes_and_decode_to_themselves():
    rng = np.random.default_rng(0)
    flat = np.array([[255, 255, 255], [31, 119, 180], [255, 127, 14], [0, 0, 0]], np.uint8)
    frames = [flat[rng.integers(0, 4, (30, 40))] for _ in range(3)]
    data = animation.gif_bytes(frames, frame_ms=300)
    assert data == animation.gif_bytes(frames, frame_ms=300)
    assert animation.gif_frame_count(data) == 3
    assert all(np.array_equal(a, b) for a, b in zip(decoded(data), frames, strict=True)), "few colours: exact"


def test_the_palette_keeps_the_most_used_colours_apart_and_exact():
    greys = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2).repeat(4, axis=0)  # 256 greys
    red = np.zeros((2, 256, 3), np.uint8)
    red[..., 0] = 200
    palette = animation.gif_palette([np.concatenate([greys, red])])
    assert len(palette) <= 256
    assert 200 << 16 in palette.tolist(), "a colour map's red is not crowded out by a photo's greys"
    rgb = np.stack([palette >> 16, (palette >> 8) & 255, palette & 255], axis=1)
    gaps = ((rgb[:, None, :] - rgb[None, :, :]) ** 2).sum(axis=2) + np.eye(len(rgb), dtype=np.int64) * 10**6
    assert gaps.min() >= animation.PALETTE_SPACING**2


def test_bad_frames_are_explained():
    with pytest.raises(ValueError, match="at least one frame"):
        animation.gif_bytes([])
    with pytest.raises(ValueError, match="one size"):
        animation.gif_bytes([np.zeros((2, 2, 3), np.uint8), np.zeros((3, 2, 3), np.uint8)])
    with pytest.raises(ValueError, match="multiple of 10 ms"):
        animation.gif_bytes([np.zeros((2, 2, 3), np.uint8)], frame_ms=55)


# --- the committed animations ----------------------------------------------------------------------------------


def test_the_committed_animations_are_all_there_small_and_of_the_right_length():
    committed = {path.name for path in ANIMATIONS_DIR.glob("*.gif")}
    assert committed == {f"{name}.gif" for name in animations.ANIMATIONS}
    for name in animations.GUIDE:  # a frame per output cell (transposed: per input cell)
        figure = animations.GUIDE[name]
        explorer = figure.explorer()
        cells = explorer.current.last_cell + 1 if figure.transposed else explorer.current.last_position + 1
        explorer.close()
        assert animation.gif_frame_count((ANIMATIONS_DIR / f"{name}.gif").read_bytes()) == cells, name
    for name in animations.ANIMATIONS:
        size = (ANIMATIONS_DIR / f"{name}.gif").stat().st_size
        assert size < animations.MAX_BYTES, f"{name}.gif is {size:,} bytes; a slide needs it under 1 MB"


def test_the_command_writes_what_is_committed(tmp_path, capsys):
    assert main(["animations", str(tmp_path), "--only", QUICK[0]]) == 0
    assert "wrote 1 animations" in capsys.readouterr().out
    assert (tmp_path / f"{QUICK[0]}.gif").read_bytes() == (ANIMATIONS_DIR / f"{QUICK[0]}.gif").read_bytes(), (
        f"{QUICK[0]}.gif differs from what the code draws; draw it again: cnn-lessons animations --force"
    )


def test_check_passes_on_the_committed_and_catches_a_changed_picture(tmp_path, capsys):
    committed = tmp_path / f"{QUICK[1]}.gif"
    shutil.copy(ANIMATIONS_DIR / committed.name, committed)
    assert main(["animations", str(tmp_path), "--check", "--only", QUICK[1]]) == 0
    assert "1 of 1 animations" in capsys.readouterr().out
    figure = animations.GUIDE[QUICK[1]]
    changed = animations.Tour(figure.explorer, "cell", values=(1, 0, 2, 3), caption=figure.caption(), frame_ms=600)
    committed.write_bytes(changed.gif())  # the same frames in another order
    assert main(["animations", str(tmp_path), "--check", "--only", *QUICK]) == 1
    out = capsys.readouterr().out
    assert f"{QUICK[1]}.gif: differs from a fresh drawing" in out and f"{QUICK[0]}.gif: missing" in out
    assert "0 of 2 animations" in out and "cnn-lessons animations" in out


def test_the_command_overwrites_nothing_unasked_and_names_what_it_draws(tmp_path, capsys):
    (tmp_path / f"{QUICK[0]}.gif").write_bytes(b"mine")
    assert main(["animations", str(tmp_path), "--only", QUICK[0]]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert (tmp_path / f"{QUICK[0]}.gif").read_bytes() == b"mine"
    assert main(["animations", str(tmp_path), "--only", "guide-nothing"]) == 2
    assert "the animations are step-through-position" in capsys.readouterr().err
    assert main(["animations", str(tmp_path / "absent"), "--check"]) == 2


# --- the guide's figures ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(animations.GUIDE))
def test_a_guide_figure_agrees_with_its_relationship_the_explorer_and_torch(name):
    figure = animations.GUIDE[name]
    rel, config = figure.relationship, figure.config
    layer = eval(figure.torch_layer(), {"nn": nn})  # the caption's PyTorch line, run
    size = config["i_"] if figure.transposed else config["i"]
    torch_size = layer(torch.zeros(1, 1, size, size)).shape[-1]
    explorer = figure.explorer()
    picture = explorer.current
    explorer.close()
    assert rel.formula(**config) == torch_size == picture.output_size
    caption = figure.caption()
    assert caption.startswith(f"Relationship {rel.number}: ") and figure.torch_layer() in caption
    assert rel.worked(config) in caption


def test_a_control_given_as_its_widget():
    explorer = explorers.ReceptiveFieldExplorer()
    try:
        frames = animation.tour_frames(explorer, explorer.kernels[0], values=[1, 5], caption=False)
        assert len(frames) == 2 and not np.array_equal(frames[0], frames[1])
        assert "kernels" not in animation.tour_controls(explorer) and "layers" in animation.tour_controls(explorer)
    finally:
        explorer.close()
