"""Lesson 05's transposed-convolution explorer: its picture against torch, and the widget driven headless.

Expected values come from torch (``F.conv_transpose1d/2d`` of all-ones and one-hot inputs, ``nn.ConvTranspose*d``
built from the line the explorer shows, ``F.conv2d`` for the direct form), never from the picture function.

Sweeps: the picture for every kernel x stride x padding x output_padding x dilation (1,200 settings) in 1-D and
2-D, input sizes cycling through their slider ranges; the explorer itself (figure read back) for every kernel x
stride x output_padding x dilation (240 settings) in 2-D and 1-D, padding and size cycling through their ranges.
"""

import inspect
import itertools

import pytest
import torch
import torch.nn.functional as F
from explorer_checks import artists, watch_drawing
from torch import nn

from cnn_lessons import drawing, explorers
from cnn_lessons.explorers import TransposedExplorer, transposed_picture

SETTINGS = list(itertools.product(range(1, 6), range(1, 5), range(5), range(4), range(1, 4)))  # k, s, p, op, d


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Thousands of tiny convolutions: a second torch thread only adds waiting when the machine is busy."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def torch_transposed(dims, x, weight, stride, padding, output_padding, dilation):
    """F.conv_transpose1d/2d on one channel, or None where torch refuses or gives nothing.

    An output size of 0 is refused by some of torch's kernels and answered with an empty tensor by others (2-D
    float32, e.g. input 1, kernel 4, padding 2): both mean no output."""
    conv = F.conv_transpose2d if dims == 2 else F.conv_transpose1d
    try:
        out = conv(x[None, None], weight[None, None], None, stride, padding, output_padding, 1, dilation)[0, 0]
    except RuntimeError:
        return None
    return out if out.numel() else None


def check_picture_against_torch(dims, size, k, s, p, op, d):
    picture = transposed_picture(dims, size, k, s, p, op, d, cell=size**dims // 2)
    shape = (size,) * dims
    ones = torch.ones(shape, dtype=torch.float64)
    kernel = torch.ones((k,) * dims, dtype=torch.float64)
    out = torch_transposed(dims, ones, kernel, s, p, op, d)
    assert (out is None) == (picture.output_size is None) == (picture.problem is not None)
    uncropped = torch_transposed(dims, ones, kernel, s, 0, 0, d)  # every copy, nothing cropped
    assert picture.counts.shape == tuple(n + op for n in uncropped.shape)
    assert torch.equal(picture.counts[(slice(0, uncropped.shape[0]),) * dims], uncropped.long())
    assert int(picture.counts.sum()) == size**dims * k**dims  # each input cell stamps k^dims cells
    if out is not None:
        assert picture.output_size == out.shape[0]
        a, b = picture.kept
        assert torch.equal(picture.counts[(slice(a, b),) * dims], out.long())  # output_padding cells: zero
        layer = eval(picture.torch_line, {"nn": nn})  # the line shown builds the layer that gives that size
        assert layer(torch.ones(1, 1, *shape)).shape[2:] == out.shape
    one_hot = torch.zeros(shape, dtype=torch.float64)
    one_hot[picture.cell_index] = 1
    stamped = torch_transposed(dims, one_hot, kernel, s, 0, 0, d).nonzero()
    assert [sorted(set(stamped[:, a].tolist())) for a in range(dims)] == [t.tolist() for t in picture.stamp]
    if out is not None:  # the direct form: a stride-1 correlation with the flipped kernel gives torch's output
        x = picture.input.double()
        weight = torch.arange(1.0, k**dims + 1, dtype=torch.float64).reshape((k,) * dims)
        conv = F.conv2d if dims == 2 else F.conv1d
        direct = conv(picture.direct.double()[None, None], weight.flip(*range(dims))[None, None], dilation=d)[0, 0]
        torch.testing.assert_close(direct, torch_transposed(dims, x, weight, s, p, op, d))
        if picture.direct_pads[0] >= 0:  # padded, not cropped: every input value is there once
            assert torch.equal(picture.direct[picture.direct_kind == 2].sort().values, x.flatten().long())


@pytest.mark.parametrize("dims", [1, 2])
def test_picture_matches_torch_for_every_setting(dims):
    sizes = itertools.cycle(range(1, 13) if dims == 1 else range(1, 7))
    for (k, s, p, op, d), size in zip(SETTINGS, sizes, strict=False):
        check_picture_against_torch(dims, size, k, s, p, op, d)


def test_the_checkerboard_note_follows_kernel_and_stride():
    assert "uneven overlap (k = 3 is not a multiple of s = 2)" in transposed_picture(2, 4, 3, 2).notes[1]
    assert (
        "even overlap: k = 4 is a multiple of s = 2; every cell away from the edges gets 2 copies"
        in (transposed_picture(2, 4, 4, 2).notes[1])
    )
    picture = transposed_picture(1, 5, 3, 2, padding=1, output_padding=1)
    assert picture.notes[0].startswith("nn.Conv1d(1, 1, 3, stride=2, padding=1, dilation=1) maps sizes 9, 10 all to 5")
    for n in (9, 10):  # checked against torch
        assert nn.Conv1d(1, 1, 3, stride=2, padding=1)(torch.ones(1, 1, n)).shape[-1] == 5


def test_the_direct_form_note_pads_by_d_k_minus_1_minus_p_or_crops():
    direct = "= a stride-1 correlation with the flipped kernel over the input stretched by s = "
    assert transposed_picture(1, 5, 3, 2, 0, 1).notes[-1] == direct + "2, padded by d(k\u22121)\u2212p = 2 (+1 after)"
    assert transposed_picture(1, 5, 3, 2, 2, 0).notes[-1] == direct + "2, padded by d(k\u22121)\u2212p = 0"
    assert transposed_picture(1, 5, 3, 2, 4, 0).notes[-1] == direct + "2, cropped by p\u2212d(k\u22121) = 2"
    # stride 1: one input size per output size (7 -> 5 for k = 3), so output_padding has nothing to pick
    only = transposed_picture(1, 5, 3, 1, 0, 0)
    assert (
        only.notes[0]
        == "nn.Conv1d(1, 1, 3, stride=1, padding=0, dilation=1) maps only 7 to 5: nothing for output_padding to pick"
    )
    dilated = transposed_picture(2, 4, 3, 2, 1, 0, 2)  # taps 2 apart, copies 2 apart: every other cell gets none
    assert dilated.span == 5 and dilated.notes[1].startswith(
        "uneven overlap (dilation 2): cells get 0 to 3 copies (3, 0, 3, ...)"
    )


def test_formula_is_written_out_with_the_numbers():
    picture = transposed_picture(2, 3, 3, 2, padding=1, output_padding=1)
    assert picture.formula.endswith("(3 \u2212 1)\u00b72 \u2212 2\u00b71 + 1\u00b7(3 \u2212 1) + 1 + 1 = 6")
    assert picture.torch_line == (
        "nn.ConvTranspose2d(1, 1, kernel_size=3, stride=2, padding=1, output_padding=1, dilation=1)"
    )


# --- the explorer, headless -------------------------------------------------------------------------------------


def canvas_numbers(explorer):
    view = explorer.view
    panel = view.panels2d["canvas"] if explorer.dims.value == "2-D" else view.panels1d["canvas"]
    return panel.numbers.get_texts()


def lines_shown(explorer):
    return [t.get_text() for t in explorer.view.lines if t.get_text()]


WIDGET_SETTINGS = [(k, s, p % 5, op, d) for p, (k, s, op, d) in
                   enumerate(itertools.product(range(1, 6), range(1, 5), range(4), range(1, 4)))]  # fmt: skip
"""Every kernel x stride x output_padding x dilation (240) through the widget, padding cycling through 0..4."""


def sweep(explorer, dims, sizes):
    """The widget settings one after another; the figure read back against torch."""
    explorer.dims.value = dims
    explorer.canvas.draw = explorer.canvas.draw_idle = lambda: None  # the figure is read back, not rendered
    for (k, s, p, op, d), size in zip(WIDGET_SETTINGS, itertools.cycle(sizes), strict=False):
        values = dict(size=size, kernel_size=k, stride=s, padding=p, output_padding=op, dilation=d)
        for name, value in values.items():
            getattr(explorer, name).value = value
        picture = explorer.current
        two = dims == "2-D"
        n = 2 if two else 1
        ones = torch.ones((size,) * n)
        out = torch_transposed(n, ones, torch.ones((k,) * n), s, p, op, d)
        uncropped = torch_transposed(n, ones, torch.ones((k,) * n), s, 0, 0, d)
        counts = torch.zeros((uncropped.shape[0] + op,) * n, dtype=torch.long)
        counts[(slice(0, uncropped.shape[0]),) * n] = uncropped.long()
        if canvas_numbers(explorer):  # cells big enough to number: the counts torch gives, blank where none
            assert canvas_numbers(explorer) == [str(c) if c else "" for c in counts.flatten().tolist()]
        kept = explorer.view.kept2d if two else explorer.view.kept1d
        assert kept.get_visible() == (out is not None)
        shown = lines_shown(explorer)
        if out is None:
            assert shown[0].startswith("torch refuses this")
        else:
            assert not shown[0].startswith("torch refuses") and explorer.view.formula.get_text().endswith(
                f"= {out.shape[0]}"
            )
        assert explorer.cell.max == size**n - 1
        assert picture.torch_line in explorer.readout.value


@pytest.mark.parametrize(("dims", "sizes"), [("2-D", range(1, 7)), ("1-D", range(1, 13))])
def test_explorer_shows_what_torch_computes_for_every_setting(dims, sizes):
    explorer = TransposedExplorer()
    sweep(explorer, dims, sizes)
    explorer.close()


def test_callbacks_update_in_place_and_redraw_once_per_change(monkeypatch):
    explorer = TransposedExplorer()
    made, redraws = watch_drawing(explorer, monkeypatch)
    fig, before = explorer.fig, artists(explorer.fig)
    changes = 0
    for control, value in explorer.benchmark_steps():
        if control.value != value:
            control.value = value
            changes += 1
            assert len(redraws) == changes
    assert changes > 20
    assert made == [] and explorer.fig is fig and explorer.canvas.figure is fig
    assert artists(fig) == before
    explorer.close()


def test_cell_slider_moves_the_outlined_copy():
    explorer = TransposedExplorer(size=3, kernel_size=3, stride=2)
    explorer.cell.value = 5  # row 1, column 2: its copy starts at (2, 4) on the canvas
    corners = {tuple(path.vertices.min(0).round(2)) for path in explorer.view.taps2d.get_paths()}
    assert corners == {(c + 0.08, r + 0.08) for r in (2, 3, 4) for c in (4, 5, 6)}  # (x, y): columns, rows
    explorer.dilation.value = 2  # taps two cells apart: rows 2, 4, 6 and columns 4, 6, 8
    corners = {tuple(path.vertices.min(0).round(2)) for path in explorer.view.taps2d.get_paths()}
    assert corners == {(c + 0.08, r + 0.08) for r in (2, 4, 6) for c in (4, 6, 8)}
    explorer.dilation.value = 1
    explorer.size.value = 2  # the slider's maximum follows the input (2x2: cells 0..3), the cell held at the last
    assert (explorer.cell.max, explorer.cell.value) == (3, 3)
    explorer.close()


def test_display_static_figure_and_bad_arguments():
    explorer = TransposedExplorer()
    assert explorer._repr_mimebundle_()["text/plain"] == (
        "TransposedExplorer(2-D, size=3, kernel_size=3, stride=2, padding=0, output_padding=0, dilation=1, cell=0)"
    )
    fig = explorer.static_figure()
    assert fig is not explorer.fig and tuple(fig.get_size_inches()) == tuple(explorer.fig.get_size_inches())

    def words(figure):
        return [t.get_text() for ax in figure.axes for c in ax.collections if isinstance(c, drawing.TextBatch)
                for t in c.texts]  # fmt: skip

    assert words(fig) == words(explorer.fig)
    assert TransposedExplorer in explorers.registered()
    explorer.close()
    with pytest.raises(ValueError, match="dims must be '2-D' or '1-D'"):
        TransposedExplorer("3-D")
    with pytest.raises(ValueError, match="size must be between 1 and 6 in 2-D"):
        TransposedExplorer(size=9)
    with pytest.raises(ValueError, match="dims must be 1 or 2"):
        transposed_picture(3)
    for name, bad, words in (
        ("size", 0, "must be positive (at least 1), got 0"),
        ("kernel_size", 0, "must be positive (at least 1), got 0"),
        ("stride", 0, "must be positive (at least 1), got 0"),
        ("dilation", 0, "must be positive (at least 1), got 0"),
        ("padding", -1, "must be at least 0, got -1"),
        ("output_padding", -1, "must be at least 0, got -1"),
        ("cell", -1, "must be at least 0, got -1"),
    ):
        with pytest.raises(ValueError) as caught:
            transposed_picture(**{name: bad})
        assert str(caught.value) == f"{name} {words}"


def test_the_chosen_cell_is_held_at_the_last_one():
    assert (transposed_picture(2, 3, cell=7).cell, transposed_picture(2, 3, cell=7).cell_index) == (7, (2, 1))
    assert (transposed_picture(2, 3, cell=20).cell, transposed_picture(2, 3, cell=20).cell_index) == (8, (2, 2))
    assert transposed_picture(1, 3, cell=20).cell_index == (2,)


def test_padding_that_crops_everything_draws_the_input_uncropped():
    """Torch refuses both; the direct form then shows the input with what padding is left at the end, never less."""
    wider = transposed_picture(1, 1, 1, 1, padding=3, output_padding=4)  # pads (-3, 1): the 1 after stays
    assert wider.problem.startswith("torch refuses this: ") and wider.direct_pads == (0, 1)
    assert wider.direct.tolist() == [1, 0] and wider.direct_kind.tolist() == [2, 0]
    cropped = transposed_picture(1, 1, 1, 1, padding=3, output_padding=2)  # pads (-3, -1): nothing left
    assert cropped.direct_pads == (0, 0) and cropped.direct.tolist() == [1]


def test_the_picture_with_no_arguments_is_the_explorers_opening_view():
    opening = {name: p.default for name, p in inspect.signature(TransposedExplorer).parameters.items()}
    picture = transposed_picture()
    assert picture.dims == {"2-D": 2, "1-D": 1}[opening.pop("dims")]
    assert {name: getattr(picture, name) for name in opening} == opening
