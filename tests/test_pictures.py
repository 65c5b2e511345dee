"""The explorers' pictures as data (the functions of PICTURES in test_package_shape.py), checked without drawing.

Every number is checked against torch or counted here independently; the words are checked where they teach (the
formula with its numbers, the padding a layer refuses, the PyTorch line). These tests are what `make mutation`
runs against the picture functions, with the explorers' own test files.
"""

import html

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnn_lessons import explorers, models, ops
from cnn_lessons.explorers import conv_arithmetic, model_zoo, receptive_field, step_through

MINUS, TIMES = "\u2212", "\u00b7"


# --- lesson 01: the step-through equation ------------------------------------------------------------------------


def test_step_equation_writes_every_product_and_the_sum():
    step = ops.window_step1d([2.0, -1.0, 0.0, 3.0], [1.0, 2.0, -1.0], 1)
    assert step_through.step_equation(step) == f"out[1] = (−1){TIMES}1 + 0{TIMES}2 + 3{TIMES}(−1) = −4"
    assert step.total == float(F.conv1d(torch.tensor([[[2.0, -1, 0, 3]]]), torch.tensor([[[1.0, 2, -1]]]))[0, 0, 1])
    text = step_through.step_equation(step, html=True)
    assert text == html.escape(f"out[1] = (−1){TIMES}1 + 0{TIMES}2 + 3{TIMES}(−1) = ") + "<b>−4</b>"


def test_step_equation_elides_the_middle_beyond_max_terms():
    step = ops.window_step2d(torch.arange(16.0).reshape(4, 4), torch.ones(3, 3), (1, 0))
    terms = [f"{int(v)}{TIMES}1" for v in step.window.reshape(-1).tolist()]
    assert len(terms) == 9
    assert step_through.step_equation(step, max_terms=9) == f"out[1, 0] = {' + '.join(terms)} = 81"
    assert step_through.step_equation(step, max_terms=5) == (
        f"out[1, 0] = {' + '.join(terms[:2])} + \u2026 + {' + '.join(terms[-2:])} = 81"
    )
    assert (
        step_through.step_equation(step, max_terms=4)
        == f"out[1, 0] = {' + '.join(terms[:2])} + \u2026 + {terms[-1]} = 81"
    )
    assert step_through.step_equation(step, max_terms=3) == f"out[1, 0] = {terms[0]} + \u2026 + {terms[-1]} = 81"
    assert step_through.step_equation(step, max_terms=1) == f"out[1, 0] = {terms[0]} + \u2026 = 81"
    assert step_through.step_equation(step, max_terms=2) == f"out[1, 0] = {terms[0]} + \u2026 = 81"


# --- lesson 02: the convolution-arithmetic picture ----------------------------------------------------------------


def test_demo_input_tells_each_cell_where_it_came_from():
    assert conv_arithmetic.demo_input(4, dims=1).tolist() == [1, 2, 3, 4]
    grid = conv_arithmetic.demo_input(3)
    assert grid.tolist() == [[11, 12, 13], [21, 22, 23], [31, 32, 33]]
    assert conv_arithmetic.demo_input(9)[8, 8] == 99
    with pytest.raises(
        ValueError,
        match=r"^a 2-D demo input holds 10\*\(row\+1\) \+ \(col\+1\), so its size must be at most 9, got 10$",
    ):
        conv_arithmetic.demo_input(10)
    with pytest.raises(ValueError, match=r"^dims must be 1 or 2, got 3$"):
        conv_arithmetic.demo_input(3, dims=3)
    with pytest.raises(ValueError, match=r"^size must be positive \(at least 1\), got 0$"):
        conv_arithmetic.demo_input(0)


def test_torch_line_is_the_layer_that_computes_it():
    line = conv_arithmetic.torch_line(2, 3, 2, 1, 1, "reflect")
    assert line == "nn.Conv2d(1, 1, kernel_size=3, stride=2, padding=1, dilation=1, padding_mode='reflect')"
    assert conv_arithmetic.torch_line(1, 3, 1, "same", 2, "zeros") == (
        "nn.Conv1d(1, 1, kernel_size=3, stride=1, padding='same', dilation=2, padding_mode='zeros')"
    )
    full = conv_arithmetic.torch_line(1, 3, 1, "full", 2, "zeros")
    assert "padding=4," in full  # torch has no 'full': the int, d*(k-1)
    layer = eval(full, {"nn": nn})  # the line runs
    assert layer(torch.zeros(1, 1, 5)).shape[-1] == 5 + 4 + 4 - 4


def test_output_size_formula_fills_in_the_numbers():
    assert conv_arithmetic.output_size_formula(7, 3, 2, 1) == (
        f"o = ⌊(i + 2p {MINUS} d(k{MINUS}1) {MINUS} 1)/s⌋ + 1 = "
        f"⌊(7 + 2{TIMES}1 {MINUS} 1{TIMES}(3{MINUS}1) {MINUS} 1)/2⌋ + 1 = ⌊6/2⌋ + 1 = 4"
    )
    assert nn.Conv1d(1, 1, 3, stride=2, padding=1)(torch.zeros(1, 1, 7)).shape[-1] == 4
    uneven = conv_arithmetic.output_size_formula(5, 4, padding="same")
    assert uneven.startswith(f"o = ⌊(i + p_l + p_r {MINUS} d(k{MINUS}1) {MINUS} 1)/s⌋ + 1 = ")
    assert f"(5 + 1 + 2 {MINUS} 1{TIMES}(4{MINUS}1) {MINUS} 1)/1" in uneven
    assert conv_arithmetic.output_size_formula(3, 3).endswith("= ⌊0/1⌋ + 1 = 1"), "a kernel that just fits: one output"
    with pytest.raises(ValueError, match=r"^position must be at least 0, got -1$"):
        conv_arithmetic.conv_picture(1, 5, 3, position=-1)
    assert uneven.endswith("= ⌊4/1⌋ + 1 = 5")
    assert conv_arithmetic.output_size_formula(2, 3, 1, (0, 0), 2).endswith(f"= ⌊{MINUS}3/1⌋ + 1 < 1: no output")
    assert conv_arithmetic.output_size_formula(5, 3).endswith("= ⌊2/1⌋ + 1 = 3")  # stride 1, padding 0, dilation 1
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        conv_arithmetic.output_size_formula(5, 3, 2, "same")


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "dilation", "mode"),
    [(5, 3, 1, 1, 1, "zeros"), (5, 3, 2, 2, 1, "reflect"), (4, 2, 1, "same", 1, "circular"), (6, 3, 1, 0, 2, "zeros")],
)
def test_conv_outcome_agrees_with_torch(size, kernel, stride, padding, dilation, mode):
    outcome = conv_arithmetic.conv_outcome(size, kernel, stride, padding, dilation, mode)
    layer = nn.Conv1d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation, padding_mode=mode)
    assert outcome.output_size == layer(torch.zeros(1, 1, size)).shape[-1] and outcome.problem is None
    assert outcome.padded_size == size + sum(outcome.pads)


def test_conv_outcome_says_why_torch_refuses():
    same = conv_arithmetic.conv_outcome(5, 3, stride=2, padding="same")
    assert same.pads is None and same.padded_size == 5 and same.output_size is None
    assert same.problem.startswith("padding='same' needs stride 1, got stride 2")
    reflect = conv_arithmetic.conv_outcome(3, 3, padding=3, padding_mode="reflect")
    assert reflect.pads == (3, 3) and reflect.padded_size == 9 and reflect.output_size is None
    assert reflect.problem == ops.padding_mode_problem(3, 3, 3, "reflect")
    with pytest.raises(RuntimeError):
        nn.Conv1d(1, 1, 3, padding=3, padding_mode="reflect")(torch.zeros(1, 1, 3))
    small = conv_arithmetic.conv_outcome(2, 5)
    assert small.pads == (0, 0) and small.padded_size == 2 and small.output_size is None
    assert small.problem.startswith("a kernel of 5 spans 5 positions, but the padded input has only 2")
    assert conv_arithmetic.conv_outcome(5, 3).output_size == 3  # defaults: stride 1, padding 0, dilation 1, zeros


def test_padding_mode_problem_words():
    assert ops.padding_mode_problem(2, 2, 0, "reflect") == (
        "reflect padding mirrors the input about its edge cell without repeating that cell, so an input of 2 can give "
        "at most 1 cell per side, but this padding needs 2; torch refuses it. Use less padding, a larger input, or "
        "'replicate'."
    )
    assert "at most 2 cells per side, but this padding needs 3" in ops.padding_mode_problem(3, 0, 3, "reflect")
    assert ops.padding_mode_problem(3, 3, 0, "circular") is None  # wraps around exactly once
    assert ops.padding_mode_problem(3, 0, 4, "circular") == (
        "circular padding wraps the input around, at most once, so an input of 3 can give at most 3 cells per side, "
        "but this padding needs 4; torch refuses it (it would wrap around more than once). Use less padding or a "
        "larger input."
    )
    assert ops.padding_mode_problem(1, 9, 9, "replicate") is None and ops.padding_mode_problem(1, 9, 9, "zeros") is None
    with pytest.raises(
        ValueError, match=r"^padding_mode must be one of \('zeros', 'reflect', 'replicate', 'circular'\)"
    ):
        ops.padding_mode_problem(3, 1, 1, "mirror")


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_pad_input_in_1d_and_uneven(mode):
    x = torch.tensor([1.0, 2.0, 3.0])
    expected = F.pad(x[None, None], (2, 1), mode="constant" if mode == "zeros" else mode)[0, 0]
    assert torch.equal(ops.pad_input(x, [(2, 1)], mode), expected)
    assert ops.pad_input(torch.tensor([1, 2, 3]), [(1, 0)], mode).dtype == torch.int64
    assert ops.pad_input(torch.tensor([True, False]), [(1, 0)], mode).dtype == torch.bool  # torch pads no bools itself
    assert torch.equal(ops.pad_input(x, [(0, 0)]), x)


@pytest.mark.parametrize(
    ("x", "pads", "words"),
    [
        (
            torch.ones(3),
            [(1,)],
            "pads must hold one (left, right) pair per axis of x (1 for shape (3,)), e.g. [(1, 1)], got [(1,)]",
        ),
        (
            torch.ones(3),
            (1, 1),
            "pads must hold one (left, right) pair per axis of x (1 for shape (3,)), e.g. [(1, 1)], got (1, 1)",
        ),
        (
            torch.ones(3, 3),
            [(1, 1)],
            "pads must hold one (left, right) pair per axis of x (2 for shape (3, 3)), e.g. "
            "[(1, 1), (1, 1)], got [(1, 1)]",
        ),
        (
            torch.ones(3, 3),
            [(1, 2, 3), (1, 1)],
            "pads must hold one (left, right) pair per axis of x (2 for shape "
            "(3, 3)), e.g. [(1, 1), (1, 1)], got [(1, 2, 3), (1, 1)]",
        ),
        (torch.ones(3), [(-1, 1)], "pads[0] must be at least 0, got -1"),
        (torch.ones(2, 2, 2), [(1, 1)] * 3, "x must be 1-D or 2-D, got a 3-D tensor of shape (2, 2, 2)"),
        (torch.ones(2), [(2, 0)], ops.padding_mode_problem(2, 2, 0, "reflect")),
    ],  # fmt: skip
)
def test_pad_input_says_what_it_cannot_pad(x, pads, words):
    with pytest.raises(ValueError) as caught:
        ops.pad_input(x, pads, "reflect")
    assert str(caught.value) == words
    with pytest.raises(TypeError, match=r"^x must be a tensor or something torch.as_tensor takes: "):
        ops.pad_input(object(), [(1, 1)])


def _torch_conv_grid(size, kernel, stride, padding, dilation, mode="zeros"):
    layer = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation, padding_mode=mode, bias=False)
    return layer(torch.zeros(1, 1, size, size)).shape[-1]


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "dilation", "mode", "position"),
    [
        (5, 3, 2, 1, 1, "zeros", 4),
        (6, 2, 1, "same", 1, "reflect", 7),
        (7, 3, 2, 0, 2, "replicate", 0),
        (4, 3, 1, "full", 1, "zeros", 35),
        (6, 3, 3, 0, 1, "circular", 3),
    ],
)
def test_conv_picture_against_torch(size, kernel, stride, padding, dilation, mode, position):
    picture = conv_arithmetic.conv_picture(2, size, kernel, stride, padding, dilation, mode, position=position)
    torch_padding = (dilation * (kernel - 1)) if padding == "full" else padding
    out = _torch_conv_grid(size, kernel, stride, torch_padding, dilation, mode)
    assert picture.output_size == out and picture.problem is None and picture.output_cells == out * out
    assert picture.last_position == out * out - 1
    flat = min(position, out * out - 1)
    assert picture.flat_position == flat and picture.position == divmod(flat, out)
    left, right = picture.pads
    assert picture.padded_size == size + left + right
    x = conv_arithmetic.demo_input(size).float()
    mode_name = "constant" if mode == "zeros" else mode
    padded = F.pad(x[None, None], (left, right, left, right), mode=mode_name)[0, 0]
    assert torch.equal(picture.padded.float(), padded)
    assert torch.equal(picture.input, conv_arithmetic.demo_input(size))
    assert picture.is_padding.sum() == picture.padded_size**2 - size * size
    assert not picture.is_padding[left : left + size, left : left + size].any()
    row, col = picture.position
    for taps, index in zip(picture.taps, (row, col), strict=True):
        assert taps.tolist() == [index * stride + dilation * j for j in range(kernel)]
    starts = [i * stride for i in range(out)]
    assert list(picture.window_starts) == starts
    reached = {s + dilation * j for s in starts for j in range(kernel)}
    assert picture.reached.tolist() == [i in reached for i in range(picture.padded_size)]
    assert picture.torch_line == conv_arithmetic.torch_line(2, kernel, stride, padding, dilation, mode)
    assert picture.formula.endswith(f"= {out}") and picture.span == dilation * (kernel - 1) + 1
    assert (picture.dims, picture.size, picture.kernel_size, picture.stride) == (2, size, kernel, stride)
    assert (picture.padding, picture.dilation, picture.padding_mode) == (padding, dilation, mode)


def test_conv_picture_notes():
    plain = conv_arithmetic.conv_picture(1, 5, 3)
    assert plain.notes == ("padding p = 0 on both ends",) and plain.output_size == 3 and plain.position == (0,)
    assert conv_arithmetic.conv_picture(2, 5, 3, padding=1).notes == ("padding p = 1 on every side",)
    assert conv_arithmetic.conv_picture(1, 5, 3, padding="valid").notes == ("padding='valid': no padding, p = 0",)
    full = conv_arithmetic.conv_picture(1, 5, 3, padding="full", dilation=2).notes
    assert full[0] == (
        f"'full' (no such word in torch: the layer takes the int): p = d(k{MINUS}1) = 2{TIMES}(3{MINUS}1) = 4 "
        "on both ends"
    )
    assert full[1] == f"dilation 2: the 3 taps spread over d(k{MINUS}1) + 1 = 5 cells, 1 cell apart"
    assert conv_arithmetic.conv_picture(1, 9, 3, dilation=3).notes[1].endswith("7 cells, 2 cells apart")
    same = conv_arithmetic.conv_picture(2, 5, 4, padding="same").notes[0]
    assert same == (
        f"padding='same': total d(k{MINUS}1) = 1{TIMES}(4{MINUS}1) = 3, split 1 on the top/left (⌊3/2⌋), 2 on the "
        "bottom/right: torch puts the odd one at the end"
    )
    even = conv_arithmetic.conv_picture(1, 5, 3, padding="same").notes[0]
    assert even.endswith("split 1 on the left (⌊2/2⌋), 1 on the right")
    unreached = conv_arithmetic.conv_picture(1, 6, 3, stride=2).notes[-1]
    assert unreached == (
        f"(i + 2p {MINUS} d(k{MINUS}1) {MINUS} 1) = 3 is not a multiple of s = 2: the last 1 cell of the padded input "
        "never fall under a tap"
    )
    last_two = conv_arithmetic.conv_picture(2, 8, 3, stride=3).notes[-1]  # windows at 0 and 3 cover 0..5 of 8
    assert last_two.endswith(
        "= 5 is not a multiple of s = 3: the last 2 rows and columns of the padded input never fall under a tap"
    )
    steps_over = conv_arithmetic.conv_picture(2, 7, 2, stride=3).notes[-1]  # windows at 0 and 3: taps 0, 1, 3, 4
    assert (
        steps_over
        == "rows and columns 2, 5, 6 never fall under a tap (stride 3, dilation 1): the kernel steps over them"
    )
    assert conv_arithmetic.conv_picture(1, 7, 2, stride=3).notes[-1].startswith("padded cells 2, 5, 6 never fall")
    gaps = conv_arithmetic.conv_picture(1, 7, 2, stride=3, dilation=1).reached.tolist()
    assert gaps == [True, True, False, True, True, False, False]


def test_conv_picture_without_an_output():
    same = conv_arithmetic.conv_picture(2, 5, 3, stride=2, padding="same")
    assert same.pads is None and same.output_size is None and same.output_cells == 0 and same.last_position == 0
    assert torch.equal(same.padded, conv_arithmetic.demo_input(5)) and not same.is_padding.any()
    assert same.notes == ("padding='same' keeps the size only with stride 1",)
    assert same.formula == f"o = ⌊(i + 2p {MINUS} d(k{MINUS}1) {MINUS} 1)/s⌋ + 1: no p fits"
    refused = conv_arithmetic.conv_picture(1, 3, 3, padding=3, padding_mode="reflect")
    assert refused.padded is None and refused.problem.startswith("reflect padding mirrors")
    assert refused.taps[0].numel() == 0 and refused.reached.tolist() == [False] * 9
    small = conv_arithmetic.conv_picture(2, 2, 3)
    assert small.output_size is None and small.problem.startswith("a kernel of 3 spans 3 positions")
    assert [t.numel() for t in small.taps] == [0, 0] and small.position == () and small.flat_position == 0
    assert all(t.dtype == torch.long for t in small.taps)  # indices, as the taps of a picture with an output
    with pytest.raises(ValueError, match=r"^dims must be 1 or 2, got 3$"):
        conv_arithmetic.conv_picture(3, 5, 3)
    with pytest.raises(ValueError, match=r"^padding_mode must be one of"):
        conv_arithmetic.conv_picture(1, 5, 3, padding_mode="mirror")


# --- lesson 02: the receptive-field picture ----------------------------------------------------------------------


def test_receptive_field_formula_with_its_numbers():
    assert receptive_field.receptive_field_formula([]) == f"r = 1 + Σ d_l(k_l{MINUS}1){TIMES}Π_(m<l) s_m = 1"
    one = receptive_field.receptive_field_formula([(5, 1)])
    assert one == f"r = 1 + Σ d_l(k_l{MINUS}1){TIMES}Π_(m<l) s_m\n  = 1 + 1{TIMES}(5{MINUS}1){TIMES}1 = 5"
    three = receptive_field.receptive_field_formula([(3, 2), (3, 1, 2), (2, 1)])
    assert three.endswith(
        f"= 1 + 1{TIMES}(3{MINUS}1){TIMES}1 + 2{TIMES}(3{MINUS}1){TIMES}2 + 1{TIMES}(2{MINUS}1){TIMES}2 "
        "= 1 + 2 + 8 + 2 = 13"
    )
    two = receptive_field.receptive_field_formula([(3, 1), (3, 1)])  # two 3x3 layers see 5
    assert two.endswith(f"= 1 + 1{TIMES}(3{MINUS}1){TIMES}1 + 1{TIMES}(3{MINUS}1){TIMES}1 = 1 + 2 + 2 = 5")
    stack = nn.Sequential(nn.Conv1d(1, 1, 3, stride=2), nn.Conv1d(1, 1, 3, dilation=2), nn.Conv1d(1, 1, 2))
    for conv in stack:
        nn.init.ones_(conv.weight)
    x = torch.zeros(1, 1, 40, requires_grad=True)
    stack(x)[0, 0, 5].backward()  # which inputs one output depends on, by autograd
    touched = (x.grad[0, 0] != 0).nonzero().flatten()
    assert int(touched.max() - touched.min()) + 1 == 13


def test_a_stack_that_does_not_fit_still_shows_its_formula():
    picture = receptive_field.receptive_field_picture([(3, 1), (9, 1)], 5)  # 5 -> 3 cells, then a 9-wide kernel
    assert picture.problem.startswith("layer 2 does not fit on layer 1 (3 cells): ")
    assert picture.formula.endswith("= 1 + 2 + 8 = 11") and picture.field == 11


def test_receptive_field_picture_traces_the_inputs_of_one_output():
    layers = [(3, 2), (3, 1, 2)]
    picture = receptive_field.receptive_field_picture(layers, 15, position=2)
    assert picture.layers == ((3, 2, 1), (3, 1, 2)) and picture.sizes == (15, 7, 3)
    assert picture.fields == (1, 3, 11) and picture.field == 11 and picture.jumps == (1, 2, 2)
    assert picture.position == 2 and picture.last_position == 2 and picture.problem is None
    stack = nn.Sequential(nn.Conv1d(1, 1, 3, stride=2, bias=False), nn.Conv1d(1, 1, 3, dilation=2, bias=False))
    for conv in stack:
        nn.init.ones_(conv.weight)
    x = torch.zeros(1, 1, 15, requires_grad=True)
    stack(x)[0, 0, 2].backward()
    assert list(picture.influence[0]) == (x.grad[0, 0] != 0).nonzero().flatten().tolist()
    assert picture.influence[-1] == (2,) and picture.influence[1] == (2, 4, 6)
    assert (2, 2, 2) in picture.edges and (1, 6, 14) in picture.edges and len(picture.edges) == 3 + 9
    assert receptive_field.receptive_field_picture(layers, 15, position=99).position == 2  # held at the last cell
    assert receptive_field.receptive_field_picture(layers, 15).position == 0


def test_receptive_field_picture_says_which_layer_does_not_fit():
    picture = receptive_field.receptive_field_picture([(3, 1), (5, 1)], 6)
    assert picture.sizes == (6, 4) and picture.last_position == 0
    assert picture.problem == (
        "layer 2 does not fit on layer 1 (4 cells): a kernel of 5 spans 5 positions, but the padded input has only 4 "
        "(input 4 plus padding 0); use a smaller kernel or dilation, or pad at least 1 in total"
    )
    first = receptive_field.receptive_field_picture([(7, 1)], 6).problem
    assert first.startswith("layer 1 does not fit on the input (6 cells): a kernel of 7")
    with pytest.raises(ValueError, match=r"^stride of layer 2 must be positive \(at least 1\), got 0$"):
        receptive_field.receptive_field_picture([(3, 1), (3, 0)], 9)
    with pytest.raises(ValueError, match=r"^kernel_size of layer 1 must be positive"):
        receptive_field.receptive_field_picture([(0, 1)], 9)
    with pytest.raises(ValueError, match=r"^dilation of layer 1 must be positive"):
        receptive_field.receptive_field_picture([(3, 1, 0)], 9)
    with pytest.raises(ValueError, match=r"^input_size must be positive"):
        receptive_field.receptive_field_picture([(3, 1)], 0)
    with pytest.raises(ValueError, match=r"^position must be at least 0, got -1$"):
        receptive_field.receptive_field_picture([(3, 1)], 9, position=-1)


# --- lesson 04: the model explorer's picture ---------------------------------------------------------------------


def test_shape_label():
    assert model_zoo.shape_label((256, 56, 56)) == "256×56²"
    assert model_zoo.shape_label((256, 56, 28)) == "256×56×28"
    assert model_zoo.shape_label((1000,)) == "1000" and model_zoo.shape_label((3, 4)) == "3×4"
    assert model_zoo.shape_label(None) == "\u2014"


def test_model_picture_and_its_header_against_torch():
    picture = model_zoo.model_picture("lenet5", 32)
    with torch.device("meta"):
        lenet = models.lenet5()
    assert picture.parameters == sum(p.numel() for p in lenet.parameters()) == 61706
    assert picture.input_size == picture.default_size == (1, 32, 32) and picture.problem is None
    assert picture.multiply_adds == picture.default_multiply_adds == models.model_facts("lenet5").multiply_adds
    assert picture.stage_shapes["c5"] == (120, 1, 1) and picture.stages == models.stage_parameter_counts(lenet)
    assert picture.receptive_field == 32 and picture.name == "lenet5" and "Total params" in picture.summary
    header = model_zoo.header_text(picture)
    macs = picture.multiply_adds
    assert header == (
        f"<b>lenet5</b>: 61,706 parameters; one 1×32×32 input: {macs / 1e6:.2f} M multiply-adds (1.00× those at "
        "32×32); receptive field 32 px: at least as wide as the image: the central positions of the last feature "
        "map see all of it"
    )


def test_header_text_of_a_large_input_and_of_a_refused_one():
    big = model_zoo.model_picture("resnet18", 448)
    header = model_zoo.header_text(big)
    ratio = big.multiply_adds / big.default_multiply_adds
    assert (
        f"one 3×448×448 input: {big.multiply_adds / 1e9:.2f} G multiply-adds ({ratio:.2f}× those at 224×224)" in header
    )
    field = big.receptive_field
    assert header.endswith(f"each position of the last feature map sees a {field}×{field} patch of the image at most")
    assert big.receptive_field < 448 and abs(ratio - 4) < 0.1
    refused = model_zoo.model_picture("alexnet", 32)
    assert refused.multiply_adds is None and refused.problem.startswith("alexnet needs an input of at least 63×63")
    assert model_zoo.header_text(refused) == (
        f"<b>alexnet</b>: {refused.parameters:,} parameters. <span style='color: #b30000'>"
        f"{html.escape(refused.problem)}</span>"
    )


def test_every_picture_function_is_tested_here_or_in_its_explorers_tests():
    """make mutation mutates the functions PICTURES lists: each needs a test that calls it."""
    assert explorers.conv_picture is conv_arithmetic.conv_picture


# --- lesson 03: the feature-map mosaic ---------------------------------------------------------------------------


def test_channel_mosaic_takes_the_smallest_tile_and_gap_and_one_pixel_gaps_by_default():
    assert explorers.channel_mosaic(torch.ones(2, 8, 8)).picture.shape == (8, 8 + 1 + 8)  # two tiles, a 1-pixel gap
    bare = explorers.channel_mosaic(torch.ones(2, 3, 3), min_tile=1, gap=0)  # tiles as they are, side by side
    assert bare.picture.shape == (3, 6) and bare.scale == 1
    for min_tile, gap in ((0, 1), (8, -1)):
        with pytest.raises(ValueError) as caught:
            explorers.channel_mosaic(torch.ones(2, 3, 3), min_tile=min_tile, gap=gap)
        assert str(caught.value) == (
            f"min_tile must be at least 1 and gap at least 0, got min_tile={min_tile}, gap={gap}"
        )


def test_output_size_formula_resolves_a_named_padding_with_the_dilation():
    # 'same' keeps the size whatever the dilation: d(k - 1) = 2 * 2 = 4 padded values, 2 each side
    formula = conv_arithmetic.output_size_formula(7, 3, padding="same", dilation=2)
    assert formula.endswith(
        f"\u230a(7 + 2{TIMES}2 {MINUS} 2{TIMES}(3{MINUS}1) {MINUS} 1)/1\u230b + 1 = \u230a6/1\u230b + 1 = 7"
    )
    assert nn.Conv1d(1, 1, 3, padding="same", dilation=2)(torch.zeros(1, 1, 7)).shape[-1] == 7


def test_a_convolution_without_output_reaches_no_position():
    picture = conv_arithmetic.conv_picture(1, 2, 5)  # a 5-wide kernel over 2 values: no window fits
    assert picture.output_size is None
    assert picture.reached.dtype == torch.bool and picture.reached.tolist() == [False] * picture.padded_size


def test_a_kernel_picture_that_could_be_computed_has_no_problem_text():
    from cnn_lessons.explorers import kernel_picker

    photo = torch.linspace(0.0, 1.0, 64).reshape(8, 8)
    picture = kernel_picker.kernel_picture(photo, [[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    assert picture.problem == ""
