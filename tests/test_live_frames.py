"""What an explorer sends to a live page: one PNG frame per slider step, sent at once, that paints the picture.

The page is played by hand here, with ipympl's own messages: "initialized" (a page shows the canvas), "refresh"
(it wants a full frame) and "draw" (it asks for a frame). Frames are composited the way ipympl's page does: a
"full" frame replaces the picture, a "diff" frame (the canvas's ``_image_mode``) is drawn over it (its
transparent pixels keep what was there).
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import PIL.Image
import pytest
import torch
from explorer_checks import TinyExplorer

from cnn_lessons import explorers

EXPLORERS = explorers.registered()  # every explorer defined so far, explorer_checks.TinyExplorer included


def test_an_explorer_defined_outside_the_package_is_registered():
    assert TinyExplorer in EXPLORERS
    assert {explorers.StepThroughExplorer, explorers.ModelExplorer, explorers.FeatureMapExplorer} < set(EXPLORERS)


class Page:
    """The page side of one canvas: records the messages and keeps the picture the frames paint."""

    def __init__(self, canvas):
        self.canvas, self.messages, self.picture, self.mode = canvas, [], None, None
        canvas.send = self.receive  # this canvas's comm, replaced by the page

    def receive(self, content, buffers=None):
        message = json.loads(content["data"])
        self.messages.append(message["type"])
        if message["type"] == "binary":
            self.mode = self.canvas._image_mode  # a synced trait: the page reads it with the frame
            assert bytes(buffers[0])[:8] == b"\x89PNG\r\n\x1a\n"
            frame = np.asarray(PIL.Image.open(io.BytesIO(bytes(buffers[0]))).convert("RGBA"))
            if self.mode == "full" or self.picture is None:
                self.picture = frame.copy()
            else:
                drawn = frame[..., 3] > 0
                self.picture[drawn] = frame[drawn]

    def tell(self, kind: str) -> None:
        self.canvas._handle_message(self.canvas, {"type": kind}, [])

    def frames(self) -> int:
        return self.messages.count("binary")


def rendered(canvas) -> np.ndarray:
    """The figure as the kernel drew it last."""
    return np.asarray(canvas.get_renderer().buffer_rgba()).copy()


def steps_that_change(explorer, count: int):
    """The first ``count`` steps of the explorer's tour that change a control's value."""
    found = []
    for control, value in explorer.benchmark_steps() * 2:
        if control.value != value:
            found.append((control, value))
            control.value = value  # walk the tour so that later steps start from where they would
        if len(found) == count:
            break
    return found


@pytest.mark.parametrize("cls", EXPLORERS, ids=lambda cls: cls.__name__)
def test_a_live_page_gets_one_frame_per_step_without_asking_and_it_paints_the_figure(cls):
    explorer = cls.example()
    steps = steps_that_change(explorer, 4)
    assert len(steps) == 4
    page = Page(explorer.canvas)
    page.tell("initialized")
    page.tell("refresh")  # a newly shown canvas asks for a full frame...
    page.tell("draw")  # ...and then for the frame itself
    assert page.frames() == 1 and page.mode == "full"
    np.testing.assert_array_equal(page.picture, rendered(explorer.canvas))
    for control, value in steps:
        before, messages = page.picture.copy(), len(page.messages)
        control.value = value
        new = page.messages[messages:]
        assert new.count("binary") == 1, new  # sent at once, once, however many artists changed
        assert "draw" not in new  # no "please ask me for a frame" round trip
        assert page.mode == "diff"  # only the changed pixels travel
        np.testing.assert_array_equal(page.picture, rendered(explorer.canvas))
        assert not np.array_equal(page.picture, before)
    explorer.close()


READ_OUTS_EVERY_STEP = {
    explorers.ActivationExplorer,
    explorers.FeatureMapExplorer,
    explorers.KernelPicker,
    explorers.ModelExplorer,
    explorers.StepThroughExplorer,
}


@pytest.mark.parametrize("cls", EXPLORERS, ids=lambda cls: cls.__name__)
def test_the_frame_leaves_before_the_read_outs(cls):
    """A step's frame is the first message after the control's own; what changed in other widgets follows it."""
    explorer = cls.example()
    steps = steps_that_change(explorer, 4)
    page = Page(explorer.canvas)
    page.tell("initialized")
    sent = []
    for widget in explorer._widgets():
        if widget is not explorer.canvas:
            widget._send = lambda message, buffers=None, widget=widget: sent.append((widget, message["method"]))

    def canvas_sends(content, buffers=None):
        page.receive(content, buffers)
        sent.append((explorer.canvas, page.messages[-1]))

    explorer.canvas.send = canvas_sends
    followed = 0
    for control, value in steps:
        del sent[:]
        control.value = value
        first_frame = sent.index((explorer.canvas, "binary"))
        assert all(widget is control for widget, _ in sent[:first_frame]), sent[:first_frame]
        followed += len(sent) - first_frame - 1
    if cls in READ_OUTS_EVERY_STEP:  # not vacuous: these explorers change a read-out at every step of the tour
        assert followed >= len(steps)
    explorer.close()


def test_a_step_computes_on_one_torch_thread_and_gives_the_others_back():
    explorer = explorers.KernelPicker()
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    seen, update = [], explorer.update
    explorer.update = lambda: (seen.append(torch.get_num_threads()), update())
    try:
        explorer.kernel.value = "sharpen"
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
        explorer.close()


def test_without_a_page_a_step_only_asks_for_a_frame():
    """nbconvert, nbval and tests have no page: a step sends a "draw" request (ignored), not a drawn frame."""
    explorer = explorers.StepThroughExplorer()
    page = Page(explorer.canvas)
    explorer.position.value = 3
    assert page.messages == ["draw"]
    page.tell("initialized")  # now a page shows it
    explorer.position.value = 4
    assert page.frames() == 1 and "draw" not in page.messages[1:]
    explorer.close()


def test_frames_are_png_of_the_figure_size_and_compressed():
    explorer = explorers.KernelPicker()
    page = Page(explorer.canvas)
    page.tell("initialized")
    sizes = []
    explorer.canvas.send = lambda content, buffers=None: (
        page.receive(content, buffers),
        sizes.append(len(buffers[0]) if buffers else 0),
    )
    page.tell("refresh")
    page.tell("draw")
    width, height = explorer.canvas.get_width_height(physical=True)
    assert page.picture.shape == (height, width, 4)
    assert 0 < max(sizes) < width * height * 4 / 5  # compressed: a full frame of a photo, well under raw size
    explorer.close()


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (7, 5), (312, 669)])
def test_frame_png_decodes_to_the_same_pixels(shape):
    rng = np.random.default_rng(sum(shape))
    rgba = rng.integers(0, 256, (*shape, 4), dtype=np.uint8)
    rgba[: shape[0] // 2] = 0  # transparent zeros, as in a diff frame
    png = explorers.frame_png(rgba)
    decoded = PIL.Image.open(io.BytesIO(png))
    assert decoded.mode == "RGBA" and decoded.size == (shape[1], shape[0])
    np.testing.assert_array_equal(np.asarray(decoded), rgba)


def test_frame_png_is_smaller_than_the_raw_pixels_of_a_mostly_transparent_frame():
    rgba = np.zeros((300, 600, 4), np.uint8)
    rgba[100:140, 200:260] = (200, 30, 30, 255)
    assert len(explorers.frame_png(rgba)) < rgba.nbytes / 100


@pytest.mark.parametrize("shape", [(3, 3), (4, 4, 3), (2, 2, 2)])
def test_frame_png_refuses_what_is_not_rgba(shape):
    with pytest.raises(ValueError, match=r"\(H, W, 4\) RGBA array, got shape"):
        explorers.frame_png(np.zeros(shape, np.uint8))


def test_an_explorer_shows_its_picture_beside_the_widget_only_when_it_can_draw_one():
    """The stored PNG is static_figure() drawn; an explorer without static_figure() is shown as the widget alone."""
    shown = TinyExplorer(width=3)._repr_mimebundle_()
    assert base64.b64decode(shown["image/png"]).startswith(b"\x89PNG")

    class NoPicture(TinyExplorer):
        static_figure = explorers.Explorer.static_figure

    assert "image/png" not in NoPicture(width=3)._repr_mimebundle_()
