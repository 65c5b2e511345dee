"""Lesson 02's explorers driven headless: set a control's value, then read back what the figure shows.

Expected values come from torch directly (``F.pad``, ``F.conv1d/2d``, the ``nn.Conv*d`` layer built from the line
the explorer shows, autograd for receptive fields), not from the picture functions that the explorers use.

Sweeps (what "every combination" means here):

- every slider combination, 1-D and 2-D: input size x kernel x padding (0..4 and 'valid'/'same'/'full') x stride x
  dilation x padding mode, 38,400 configurations in 1-D and 17,280 in 2-D, through ``explorers.conv_outcome`` (the
  decision the explorer displays) against torch;
- through the explorer itself (figure read back, taps, layer line evaluated): every combination of kernel x
  padding x stride x dilation x padding mode (1,920) in 1-D at two input sizes each (3,840 configurations:
  sizes cycle through 1..20 so that every size is visited) and in 2-D at one size each (cycling through 1..9).
"""

import ast
import os
import re
from itertools import product
from pathlib import Path

import ipywidgets
import matplotlib
import matplotlib.colors as mcolors
import numpy as np
import PIL.ImageFont
import pytest
import torch
import torch.nn.functional as F
from explorer_checks import artists, watch_drawing
from torch import nn

from cnn_lessons import drawing, explorers
from cnn_lessons.explorers import ConvArithmeticExplorer, ReceptiveFieldExplorer

PACKAGE = Path(__file__).resolve().parents[1] / "cnn_lessons"
CHOICES = [("custom", p) for p in range(5)] + [(word, None) for word in ("valid", "same", "full")]
MODES = ("zeros", "reflect", "replicate", "circular")
# The explorers' sweeps drive every combination with CNN_LESSONS_SWEEPS=all (make test-sweeps, in CI); make test
# takes every 7th (7 is prime to every control's number of values, so each value of each control still appears)
SWEEP_STRIDE = 1 if os.environ.get("CNN_LESSONS_SWEEPS", "").strip().lower() == "all" else 7


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Thousands of tiny convolutions: a second torch thread only adds waiting when the machine is busy."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# --- torch, worked out here ---------------------------------------------------------------------------------------


def torch_output_size(dims, size, kernel_size, stride, padding, dilation, mode):
    """The output length torch gives (F.pad in ``mode``, then F.conv1d/2d), or None where torch refuses."""
    x = torch.ones((1, 1) + (size,) * dims)
    w = torch.ones((1, 1) + (kernel_size,) * dims)
    conv = F.conv1d if dims == 1 else F.conv2d
    if padding == "full":  # not a torch word: d*(k-1) on every side
        padding = dilation * (kernel_size - 1)
    try:
        if mode == "zeros":
            return conv(x, w, stride=stride, padding=padding, dilation=dilation).shape[-1]
        if padding == "same":
            conv(x, w, stride=stride, padding="same", dilation=dilation)  # torch refuses strided 'same' here
            total = dilation * (kernel_size - 1)
            left, right = total // 2, total - total // 2  # torch's split: the extra cell at the end
        else:
            left = right = 0 if padding == "valid" else padding
        padded = F.pad(x, (left, right) * dims, mode=mode)
        return conv(padded, w, stride=stride, dilation=dilation).shape[-1]
    except (RuntimeError, ValueError):
        return None


def torch_pads(kernel_size, padding, dilation):
    if padding == "full":
        return dilation * (kernel_size - 1), dilation * (kernel_size - 1)
    if padding == "same":
        total = dilation * (kernel_size - 1)
        return total // 2, total - total // 2
    if padding == "valid":
        return 0, 0
    return padding, padding


# --- what the figure shows --------------------------------------------------------------------------------------


def shown_output_size(explorer):
    """The output size as the figure writes it (the output panel's title), None for "output: none"."""
    title = explorer.view.output_title.get_text()
    if title == "output: none":
        return None
    if explorer.dims.value == "2-D":
        rows, cols = map(int, re.match(r"output (\d+)\u00d7(\d+), showing \((\d+), (\d+)\)$", title).groups()[:2])
        assert rows == cols
        return rows
    return int(re.match(r"output (\d+), showing (\d+)$", title).group(1))


def drawn_output_cells(explorer):
    view = explorer.view
    cells = view.out_cells2d if explorer.dims.value == "2-D" else view.out_cells1d
    return len(cells.get_paths())


def tap_cells(explorer):
    """(row, col) in 2-D or (col,) in 1-D of each outlined tap, from the outline collection's squares."""
    two = explorer.dims.value == "2-D"
    outlines = explorer.view.taps2d if two else explorer.view.taps1d
    cells = []
    for path in outlines.get_paths():
        x, y = path.vertices.min(axis=0)
        cells.append((round(y - 0.07), round(x - 0.07)) if two else (round(x - 0.07),))
    return sorted(cells)


def problem_text(explorer):
    lines = explorer.view.lines
    shown = " ".join(t.get_text() for t in lines if t.get_text())
    if shown and mcolors.same_color(lines[0].get_color(), explorers.ARITHMETIC_COLORS["problem"]):
        return shown
    return ""


def settings(explorer):
    choice = explorer.padding_choice.value
    return (
        1 if explorer.dims.value == "1-D" else 2,
        explorer.size.value,
        explorer.kernel_size.value,
        explorer.stride.value,
        explorer.padding.value if choice == "custom" else choice,
        explorer.dilation.value,
        explorer.padding_mode.value,
    )


def check_shown(explorer):
    """What the explorer shows equals torch: the output size (or the refusal, explained, output greyed), the
    taps at the padded indices ops gives, and the layer line, evaluated, builds a layer of that output size."""
    dims, size, kernel_size, stride, padding, dilation, mode = settings(explorer)
    expected = torch_output_size(dims, size, kernel_size, stride, padding, dilation, mode)
    shown = shown_output_size(explorer)
    assert shown == expected, (settings(explorer), shown, expected)
    view = explorer.view
    line = view.layer.get_text()
    assert line in explorer.readout.value.replace("&#x27;", "'")
    x = explorer.current.input.to(torch.float32)[None, None]
    if expected is None:
        assert drawn_output_cells(explorer) == 0 and tap_cells(explorer) == []
        assert problem_text(explorer), "a refused configuration must be explained"
        no_output = view.no_output2d if dims == 2 else view.no_output1d
        assert no_output.get_visible() and mcolors.same_color(
            no_output.get_facecolor(), explorers.ARITHMETIC_COLORS["none"]
        )
        assert explorer.position.disabled and explorer.position.max == 0
        with pytest.raises((RuntimeError, ValueError)):
            eval(line, {"nn": nn})(x)
        return
    assert drawn_output_cells(explorer) == expected**dims
    assert not problem_text(explorer)
    assert explorer.position.max == expected**dims - 1 and not explorer.position.disabled
    # the taps: where ops.window_step puts the kernel for the output cell shown
    from cnn_lessons import ops

    flat = explorer.position.value
    ones = torch.ones((kernel_size,) * dims)
    if dims == 1:
        step = ops.window_step1d(explorer.current.input, ones, flat, stride, padding, dilation)
        assert tap_cells(explorer) == [(c,) for c in step.cols.tolist()]
    else:
        step = ops.window_step2d(explorer.current.input, ones, divmod(flat, expected), stride, padding, dilation)
        assert tap_cells(explorer) == sorted(product(step.rows.tolist(), step.cols.tolist()))
    # the layer, as shown, gives that output size on the explorer's input
    assert eval(line, {"nn": nn})(x).shape[-dims:] == (expected,) * dims


# --- every combination ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dims, sizes", [(1, range(1, 21)), (2, range(1, 10))])
def test_every_slider_combination_decides_like_torch(dims, sizes):
    """The decision the explorer displays (explorers.conv_outcome) for every slider combination, against torch."""
    count = 0
    for size, kernel_size, (choice, value), stride, dilation, mode in product(
        sizes, range(1, 6), CHOICES, range(1, 5), range(1, 4), MODES
    ):
        padding = value if choice == "custom" else choice
        outcome = explorers.conv_outcome(size, kernel_size, stride, padding, dilation, mode)
        expected = torch_output_size(dims, size, kernel_size, stride, padding, dilation, mode)
        assert outcome.output_size == expected, (size, kernel_size, padding, stride, dilation, mode)
        assert (outcome.problem is None) == (expected is not None)
        if outcome.pads is not None:
            assert outcome.pads == torch_pads(kernel_size, padding, dilation)
        count += 1
    assert count == len(sizes) * 5 * 8 * 4 * 3 * 4


def sweep(explorer, sizes_per_combination, size_range):
    """Drive ``explorer`` through every kernel x padding x stride x dilation x mode combination, each at
    ``sizes_per_combination`` input sizes cycling through ``size_range``; check each configuration."""
    sizes = list(size_range)
    visited, turn = set(), 0
    combinations = list(product(MODES, range(1, 4), range(1, 5), range(1, 6)))[::SWEEP_STRIDE]
    for axis, values in enumerate((MODES, range(1, 4), range(1, 5), range(1, 6))):
        assert {combination[axis] for combination in combinations} == set(values)
    for mode, dilation, stride, kernel_size in combinations:
        explorer.padding_mode.value = mode
        explorer.dilation.value = dilation
        explorer.stride.value = stride
        explorer.kernel_size.value = kernel_size
        for _ in range(sizes_per_combination):
            explorer.size.value = sizes[turn % len(sizes)]
            turn += 1
            for choice, value in CHOICES:
                explorer.padding_choice.value = choice
                if value is not None:
                    explorer.padding.value = value
                check_shown(explorer)
                visited.add(settings(explorer))
    return visited


def combinations_swept() -> int:
    """How many kernel x stride x dilation x mode combinations a sweep drives (all 240, or every 7th)."""
    return len(range(0, 5 * 4 * 3 * 4, SWEEP_STRIDE))


def test_explorer_1d_shows_what_torch_computes_for_every_combination():
    explorer = ConvArithmeticExplorer("1-D", size=1)
    visited = sweep(explorer, 2, range(1, 21))
    assert len(visited) == combinations_swept() * 2 * len(CHOICES)
    assert {v[1] for v in visited} == set(range(1, 21))
    explorer.close()


def test_explorer_2d_shows_what_torch_computes_for_every_combination():
    explorer = ConvArithmeticExplorer("2-D", size=1)
    visited = sweep(explorer, 1, range(1, 10))
    assert len(visited) == combinations_swept() * len(CHOICES)
    assert {v[1] for v in visited} == set(range(1, 10))
    explorer.close()


# --- the picture in detail ----------------------------------------------------------------------------------------


def number_grid(explorer):
    """The numbers drawn in the padded input's cells, as a list (1-D) or nested rows (2-D); '' where blank."""
    view = explorer.view
    two = explorer.dims.value == "2-D"
    texts = (view.numbers2d if two else view.numbers1d).get_texts()
    n = explorer.current.padded_size
    return [texts[r * n : (r + 1) * n] for r in range(n)] if two else texts


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dims", ["1-D", "2-D"])
def test_padding_cells_show_the_values_torch_pads_with(mode, dims):
    explorer = ConvArithmeticExplorer(dims, size=4, kernel_size=3, padding=2, stride=1, padding_mode=mode)
    x = explorer.current.input
    assert x.tolist() == ([1, 2, 3, 4] if dims == "1-D" else [[10 * r + c for c in range(1, 5)] for r in range(1, 5)])
    d = x.dim()
    padded = F.pad(x.float()[None, None], (2, 2) * d, mode="constant" if mode == "zeros" else mode)[0, 0]
    expected = [[str(int(v)) for v in row] for row in padded.tolist()] if d == 2 else [str(int(v)) for v in padded]
    assert number_grid(explorer) == expected
    # padding cells grey, the input's own cells white, the unpadded input outlined
    view = explorer.view
    cells = view.cells2d if d == 2 else view.cells1d
    faces = cells.get_facecolor()
    n = 8
    pad = np.ones((n,) * d, dtype=bool)
    pad[(slice(2, 6),) * d] = False
    grey, white = (
        mcolors.to_rgba(explorers.ARITHMETIC_COLORS["pad"]),
        mcolors.to_rgba(explorers.ARITHMETIC_COLORS["input"]),
    )
    taps = {tuple(c) for c in tap_cells(explorer)}
    for index, is_pad in enumerate(pad.reshape(-1)):
        where = tuple(divmod(index, n)) if d == 2 else (index,)
        if where not in taps:
            assert tuple(faces[index]) == (grey if is_pad else white)
    border = view.border2d if d == 2 else view.border1d
    assert (border.get_x(), border.get_width()) == (2, 4)
    assert f"padding_mode='{mode}'" in view.layer.get_text()
    assert f"padding 2 ({mode})" in view.input_title.get_text()
    explorer.close()


def test_reflect_refused_shows_the_input_and_no_padding_values():
    explorer = ConvArithmeticExplorer("2-D", size=3, kernel_size=3, padding=3, stride=1, padding_mode="reflect")
    assert shown_output_size(explorer) is None
    grid = number_grid(explorer)
    assert grid[3][3:6] == ["11", "12", "13"] and grid[0] == [""] * 9  # the padding stays empty
    text = problem_text(explorer)
    assert "reflect" in text and "at most 2" in text and "needs 3" in text
    explorer.padding.value = 2  # now it fits: the mirrored values appear
    assert shown_output_size(explorer) == 5 and not problem_text(explorer)
    assert number_grid(explorer)[0] == ["33", "32", "31", "32", "33", "32", "31"]
    explorer.close()


@pytest.mark.parametrize(
    "settings_, words",
    [
        (dict(size=3, kernel_size=5, padding=0, stride=1), ["spans 5 positions", "only 3"]),
        (dict(size=3, kernel_size=3, padding=0, stride=1, dilation=3), ["dilation 3 spans 7", "only 3"]),
        (dict(size=7, kernel_size=3, padding_choice="same", stride=2), ["padding='same' needs stride 1"]),
        (dict(size=2, kernel_size=3, padding=2, stride=1, padding_mode="reflect"), ["reflect", "at most 1 cell"]),
        (dict(size=2, kernel_size=3, padding=3, stride=1, padding_mode="circular"), ["circular", "at most 2"]),
    ],
)
@pytest.mark.parametrize("dims", ["1-D", "2-D"])
def test_impossible_combinations_are_explained_and_the_output_greyed(settings_, words, dims):
    explorer = ConvArithmeticExplorer(dims, **settings_)
    check_shown(explorer)
    text = problem_text(explorer)
    for word in words:
        assert word in text
    assert explorer.view.output_title.get_text() == "output: none"
    no_output = explorer.view.no_output_text2d if dims == "2-D" else explorer.view.no_output_text1d
    assert no_output.get_visible() and no_output.get_text() == "no output"
    # a kinder setting brings the output back, and the position slider with it
    explorer.kernel_size.value = 1
    explorer.dilation.value = 1
    explorer.padding_choice.value = "valid"
    check_shown(explorer)
    assert shown_output_size(explorer) == settings_["size"] // settings_.get("stride", 1) + (
        settings_["size"] % settings_.get("stride", 1) > 0
    )
    explorer.close()


def test_formula_and_same_split_are_written_out_with_the_numbers():
    explorer = ConvArithmeticExplorer("2-D", size=7, kernel_size=3, padding=1, stride=2)
    view = explorer.view
    assert view.formula.get_text() == (
        "o = \u230a(i + 2p \u2212 d(k\u22121) \u2212 1)/s\u230b + 1 = "
        "\u230a(7 + 2\u00b71 \u2212 1\u00b7(3\u22121) \u2212 1)/2\u230b + 1 = \u230a6/2\u230b + 1 = 4"
    )
    assert view.layer.get_text() == (
        "nn.Conv2d(1, 1, kernel_size=3, stride=2, padding=1, dilation=1, padding_mode='zeros')"
    )
    explorer.stride.value = 1
    explorer.kernel_size.value = 4
    explorer.padding_choice.value = "same"
    assert "(7 + 1 + 2 \u2212 1\u00b7(4\u22121) \u2212 1)/1" in view.formula.get_text()
    assert view.formula.get_text().endswith("= 7")
    notes = " ".join(t.get_text() for t in view.lines)
    assert "split 1 on the top/left" in notes and "2 on the bottom/right" in notes
    assert "padding='same'" in view.layer.get_text()
    assert F.conv2d(torch.ones(1, 1, 7, 7), torch.ones(1, 1, 4, 4), padding="same").shape[-1] == 7
    explorer.padding_choice.value = "full"
    assert "padding=3," in view.layer.get_text() and "'full'" in " ".join(t.get_text() for t in view.lines)
    explorer.close()


def test_stride_leaves_cells_unreached_and_marks_them():
    # (8 + 0 - 2 - 1) = 5 is odd: with stride 2 the last row and column never fall under a tap
    explorer = ConvArithmeticExplorer("2-D", size=8, kernel_size=3, padding=0, stride=2)
    faces = explorer.view.cells2d.get_facecolor().reshape(8, 8, 4)
    tint = mcolors.to_rgba(explorers.ARITHMETIC_COLORS["unreached"])
    x = torch.zeros(1, 1, 8, 8, requires_grad=True)
    F.conv2d(x, torch.ones(1, 1, 3, 3), stride=2).sum().backward()
    never = x.grad[0, 0] == 0  # no output depends on these cells
    assert never.any()
    for r, c in product(range(8), range(8)):
        assert (tuple(faces[r, c]) == tint) == bool(never[r, c])
    assert "is not a multiple of s = 2" in " ".join(t.get_text() for t in explorer.view.lines)
    explorer.close()


def test_dilation_outlines_each_tap_with_gaps_between():
    explorer = ConvArithmeticExplorer("1-D", size=9, kernel_size=3, padding=0, stride=1, dilation=3, position=1)
    assert tap_cells(explorer) == [(1,), (4,), (7,)]  # cell 1, then every third: two cells skipped between taps
    squares = [p.vertices.min(axis=0)[0] for p in explorer.view.taps1d.get_paths()]
    assert np.diff(squares).tolist() == [3, 3]
    explorer.close()


def test_position_slider_follows_the_output_size_and_moves_the_taps():
    explorer = ConvArithmeticExplorer("2-D", size=7, kernel_size=3, padding=1, stride=2)
    assert explorer.position.max == 15
    explorer.position.value = 15
    check_shown(explorer)
    assert tap_cells(explorer)[0] == (6, 6)
    explorer.stride.value = 3  # 3x3 outputs: the position is held at the last one
    assert explorer.position.max == 8 and explorer.position.value == 8
    check_shown(explorer)
    for position in range(9):
        explorer.position.value = position
        check_shown(explorer)
        assert explorer.view.output_title.get_text().endswith(f"showing {divmod(position, 3)}")
    explorer.dims.value = "1-D"
    assert (explorer.size.min, explorer.size.max) == (1, 20)
    explorer.size.value = 20
    check_shown(explorer)
    explorer.dims.value = "2-D"
    assert explorer.size.max == 9 and explorer.size.value == 9
    check_shown(explorer)
    explorer.close()


def test_padding_slider_is_disabled_unless_custom():
    explorer = ConvArithmeticExplorer()
    for choice in explorers.PADDING_CHOICES:
        explorer.padding_choice.value = choice
        assert explorer.padding.disabled == (choice != "custom")
    explorer.close()


# --- the receptive-field explorer ---------------------------------------------------------------------------------


def gradient_footprint(layers, input_size, position):
    """Input cells with a non-zero gradient of output ``position`` of the stack (ones as weights, no padding)."""
    x = torch.zeros(1, 1, input_size, requires_grad=True)
    h = x
    for kernel_size, stride, dilation in layers:
        h = F.conv1d(h, torch.ones(1, 1, kernel_size), stride=stride, dilation=dilation)
    h[0, 0, position].backward()
    return x.grad[0, 0].nonzero().flatten().tolist()


def shown_field(explorer):
    view = explorer.view
    count = len(explorer.stack())
    field = int(re.fullmatch(r"r = (\d+)", view.row_fields[count].get_text()).group(1))
    call = re.fullmatch(r"receptive_field\(\[(.*)\]\) = (\d+)", view.call.get_text())
    assert int(call.group(2)) == field
    assert ast.literal_eval(f"[{call.group(1)}]") == explorer.stack()
    return field


def shown_inputs(explorer):
    """Input cells drawn as feeding the chosen output (the input row is the first ``input_size`` cells)."""
    faces = explorer.view.cells.get_facecolor()[: explorer.input_size.value]
    feeds = mcolors.to_rgba(explorers.RF_COLORS["feeds"])
    return [i for i, face in enumerate(faces) if tuple(face) == feeds]


def check_field(explorer):
    layers, size, position = explorer.stack(), explorer.input_size.value, explorer.position.value
    expected_sizes = [size]
    for kernel_size, stride, dilation in layers:
        try:
            out = F.conv1d(
                torch.ones(1, 1, expected_sizes[-1]), torch.ones(1, 1, kernel_size), stride=stride, dilation=dilation
            )
        except RuntimeError:
            break
        expected_sizes.append(out.shape[-1])
    fits = len(expected_sizes) == len(layers) + 1
    field = shown_field(explorer)
    if not fits:
        assert explorer.position.disabled and "does not fit" in " ".join(t.get_text() for t in explorer.view.problem)
        return field, None
    assert explorer.position.max == expected_sizes[-1] - 1
    cells = gradient_footprint(layers, size, position)
    assert field == cells[-1] - cells[0] + 1
    assert shown_inputs(explorer) == cells
    title = explorer.view.title.get_text()
    assert f"depends on input cells {cells[0]} \u2026 {cells[-1]}: a receptive field of r = {field} cells" in title
    return field, cells


def test_receptive_field_default_stack():
    explorer = ReceptiveFieldExplorer()
    assert explorer.stack() == [(3, 1, 1), (3, 2, 1), (3, 1, 2)] and explorer.position.value == 3
    field, cells = check_field(explorer)
    assert field == 13 and cells == list(range(6, 19))
    assert explorer.view.formula.get_text().endswith("= 1 + 2 + 2 + 8 = 13")
    explorer.close()


def test_receptive_field_matches_the_gradient_footprint_for_a_sweep_of_stacks():
    generator = np.random.default_rng(0)
    explorer = ReceptiveFieldExplorer()
    explorer.input_size.value = 40
    checked = holes = 0
    for _ in range(150):
        count = int(generator.integers(1, 5))
        explorer.layers.value = count
        for n in range(count):
            explorer.kernels[n].value = int(generator.integers(1, 6))
            explorer.strides[n].value = int(generator.integers(1, 4))
            explorer.dilations[n].value = int(generator.integers(1, 4))
        explorer.position.value = int(generator.integers(0, 40))
        field, cells = check_field(explorer)
        if cells is not None:
            checked += 1
            holes += len(cells) < field
    assert checked > 60 and holes > 5  # stacks that fit, some of them with holes in their field
    explorer.close()


def test_every_single_layer_matches_torch():
    explorer = ReceptiveFieldExplorer([(3, 1, 1)], input_size=12, position=0)
    for kernel_size, stride, dilation in product(range(1, 6), range(1, 4), range(1, 4)):
        explorer.kernels[0].value = kernel_size
        explorer.strides[0].value = stride
        explorer.dilations[0].value = dilation
        for position in (0, explorer.position.max):
            explorer.position.value = position
            field, cells = check_field(explorer)
            assert field == dilation * (kernel_size - 1) + 1
    explorer.close()


def test_a_stack_that_does_not_fit_is_explained():
    explorer = ReceptiveFieldExplorer([(3, 1, 1), (5, 3, 3)], input_size=10, position=0)
    field, cells = check_field(explorer)
    assert cells is None and field == 15
    text = " ".join(t.get_text() for t in explorer.view.problem)
    assert text.startswith("layer 2 does not fit on layer 1 (8 cells)")
    assert explorer.view.none_labels[1].get_text() == "does not fit" and explorer.view.none_labels[1].get_visible()
    explorer.input_size.value = 20
    assert check_field(explorer)[1] is not None
    explorer.close()


def test_layer_rows_stay_in_place_and_only_the_layers_in_use_can_be_changed():
    explorer = ReceptiveFieldExplorer()
    for count in (1, 4, 2):
        explorer.layers.value = count
        assert all(row.layout.display in (None, "", "flex") for row in explorer.rows)  # nothing jumps
        for n, controls in enumerate(zip(explorer.kernels, explorer.strides, explorer.dilations, strict=True)):
            assert [control.disabled for control in controls] == [n >= count] * 3
        assert len(explorer.stack()) == count
        check_field(explorer)
    explorer.close()


# --- in-place updates, one redraw per change, display ----------------------------------------------------------


@pytest.mark.parametrize("make", [ConvArithmeticExplorer, ReceptiveFieldExplorer])
def test_callbacks_update_in_place_and_redraw_once_per_change(make, monkeypatch):
    explorer = make()
    made, redraws = watch_drawing(explorer, monkeypatch)
    fig, before = explorer.fig, artists(explorer.fig)
    changes = 0
    for control, value in explorer.benchmark_steps():  # includes changes that move other sliders' ranges
        if control.value != value:
            control.value = value
            changes += 1
            assert len(redraws) == changes
    assert changes > 20
    assert made == [] and explorer.fig is fig and explorer.canvas.figure is fig
    assert artists(fig) == before  # the same artists, none added or removed
    explorer.close()


def test_explorers_display_as_widget_boxes_with_a_short_text():
    explorer = ConvArithmeticExplorer()
    bundle = explorer._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.box.model_id
    assert bundle["text/plain"] == (
        "ConvArithmeticExplorer(2-D, size=7, kernel_size=3, stride=2, padding=1, dilation=1, "
        "padding_mode='zeros', position=0)"
    )
    assert explorer.canvas in explorer.box.children
    explorer.close()
    rf = ReceptiveFieldExplorer()
    assert rf._repr_mimebundle_()["text/plain"] == (
        "ReceptiveFieldExplorer(layers=[(3, 1, 1), (3, 2, 1), (3, 1, 2)], input_size=24, position=3)"
    )
    rf.close()


@pytest.mark.parametrize("make", [ConvArithmeticExplorer, ReceptiveFieldExplorer])
def test_static_figure_is_the_same_picture_on_a_new_figure(make):
    explorer = make()
    fig = explorer.static_figure()
    assert fig is not explorer.fig and tuple(fig.get_size_inches()) == tuple(explorer.fig.get_size_inches())
    texts = [
        t.get_text() for ax in fig.axes for c in ax.collections if isinstance(c, drawing.TextBatch) for t in c.texts
    ]
    mine = [
        t.get_text()
        for ax in explorer.fig.axes
        for c in ax.collections
        if isinstance(c, drawing.TextBatch)
        for t in c.texts
    ]
    assert texts == mine
    explorer.close()


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="dims must be one of"):
        ConvArithmeticExplorer("3-D")
    with pytest.raises(ValueError, match="size must be between 1 and 9 in 2-D"):
        ConvArithmeticExplorer("2-D", size=12)
    with pytest.raises(ValueError, match="give 1 to 4 layers"):
        ReceptiveFieldExplorer([])


# --- toggle buttons show their whole labels --------------------------------------------------------------------

WIDGET_FONT_PX = 13  # JupyterLab's --jp-widgets-font-size (--jp-ui-font-size1)
BUTTON_PADDING_PX = 20  # ipywidgets' .jupyter-button: padding-left and padding-right 10px, box-sizing border-box
DEJAVU = PIL.ImageFont.truetype(os.path.join(matplotlib.get_data_path(), "fonts/ttf/DejaVuSans.ttf"), WIDGET_FONT_PX)


def fits(label: str, width_px: float, padding_px: float = BUTTON_PADDING_PX) -> bool:
    """Whether ``label`` shows whole in a box ``width_px`` wide: measured with PIL's FreeType in DejaVu Sans (as
    wide as the sans-serif faces a browser gives system-ui), not with the package's own measure."""
    return DEJAVU.getlength(label) + padding_px <= width_px


def pixels(css: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)px", css or "")
    assert match, f"a width in px, got {css!r}"
    return float(match.group(1))


def own_explorers():
    yield explorers.StepThroughExplorer()
    yield explorers.KernelPicker()
    yield ConvArithmeticExplorer()
    yield ReceptiveFieldExplorer()
    yield explorers.FeatureMapExplorer.example(count=2)


def test_every_toggle_button_and_description_is_wide_enough_for_its_label():
    toggles = described = 0
    for explorer in own_explorers():
        for control in explorer._widgets():
            if isinstance(control, ipywidgets.ToggleButtons):
                toggles += 1
                width = pixels(control.style.button_width)
                for label in control.options:
                    assert fits(label, width), f"{type(explorer).__name__}: {label!r} is cut in a {width:.0f} px button"
            if getattr(control, "description", "") and hasattr(control.style, "description_width"):
                described += 1
                label_width = control.style.description_width or "80px"  # --jp-widgets-inline-label-width
                assert fits(control.description, pixels(label_width), padding_px=0), control.description
        explorer.close()
    assert toggles >= 4  # conv arithmetic's dims, padding and mode; the step-through's mode
    assert described >= 9 + 9  # the kernel picker's nine weights, the sliders and menus


def test_the_width_check_catches_the_cut_labels_students_saw():
    """Before the fix the buttons were 62 and 72 px wide: "custom" showed as "cust...", "replicate" as "replic..."."""
    assert not fits("custom", 62) and not fits("replicate", 72)
    assert fits("valid", 62) and fits("zeros", 72)
    for labels in (("custom", "valid", "same", "full"), ("zeros", "reflect", "replicate", "circular")):
        width = pixels(drawing.button_width(labels))
        assert all(fits(label, width) for label in labels)
        assert width <= max(DEJAVU.getlength(label) for label in labels) + BUTTON_PADDING_PX + 12  # not wastefully wide
