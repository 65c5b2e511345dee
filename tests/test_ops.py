"""cnn_lessons.ops: from-scratch correlation and convolution, equal to torch over many configurations."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnn_lessons import ops
from cnn_lessons.arithmetic import effective_kernel_size, resolve_padding

MANY = settings(max_examples=250, deadline=None)
TOL = dict(atol=1e-5, rtol=1e-5)


def _torch_padding(padding, kernel, dilation):
    """torch takes ints, 'valid' and 'same'; 'full' is d*(k-1) zeros on both sides."""
    return effective_kernel_size(kernel, dilation) - 1 if padding == "full" else padding


def _fits(size, kernel, stride, padding, dilation):
    if padding == "same" and stride != 1:
        return False
    left, right = resolve_padding(padding, kernel, stride, dilation)
    return size + left + right >= effective_kernel_size(kernel, dilation)


# --- hand-worked ----------------------------------------------------------------------------------------------


def test_correlation_and_convolution_by_hand():
    signal, kernel = [1.0, 2, 3, 4], [1.0, 0, -1]
    assert ops.correlate1d(signal, kernel).tolist() == [1 - 3, 2 - 4]  # x[i] - x[i+2]
    assert ops.convolve1d(signal, kernel).tolist() == [3 - 1, 4 - 2]  # flipped: x[i+2] - x[i]
    assert ops.correlate1d(signal, kernel, padding="full").tolist() == [-1, -2, -2, -2, 3, 4]
    image = torch.arange(9.0).view(3, 3)
    assert ops.correlate2d(image, [[1.0, 0], [0, 0]]).tolist() == [[0, 1], [3, 4]]  # top-left tap
    assert ops.convolve2d(image, [[1.0, 0], [0, 0]]).tolist() == [[4, 5], [7, 8]]  # flipped: bottom-right


def test_integer_input_becomes_float():
    assert ops.correlate1d([1, 2, 3], [1, 1]).dtype == torch.get_default_dtype()
    assert ops.correlate1d(torch.ones(4, dtype=torch.float64), [1, 1]).dtype == torch.float64


def test_window_step_matches_the_full_output():
    torch.manual_seed(0)
    image, kernel = torch.randn(7, 8), torch.randn(3, 2)
    full = ops.convolve2d(image, kernel, stride=2, padding=1, dilation=(1, 2))
    for i in range(full.shape[0]):
        for j in range(full.shape[1]):
            step = ops.window_step2d(image, kernel, (i, j), stride=2, padding=1, dilation=(1, 2), flip=True)
            assert step.total == pytest.approx(float(full[i, j]), abs=1e-5)
            assert torch.equal(step.products, step.window * kernel.flip(0, 1))
            assert step.output_shape == tuple(full.shape)
    signal = torch.arange(6.0)
    step = ops.window_step1d(signal, [1.0, 2.0], 2, stride=2, padding=1)
    assert step.cols.tolist() == [4, 5]  # padded indices: one zero on the left
    assert step.window.tolist() == [3.0, 4.0] and step.total == 3 + 8


# --- against torch, many random configurations --------------------------------------------------------------

paddings = st.one_of(st.integers(0, 4), st.sampled_from(["valid", "same", "full"]))


@MANY
@given(
    size=st.integers(1, 30),
    kernel=st.integers(1, 7),
    stride=st.integers(1, 4),
    padding=paddings,
    dilation=st.integers(1, 3),
    flip=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_1d_matches_torch(size, kernel, stride, padding, dilation, flip, seed):
    assume(_fits(size, kernel, stride, padding, dilation))
    g = torch.Generator().manual_seed(seed)
    x, w = torch.randn(size, generator=g), torch.randn(kernel, generator=g)
    applied = w.flip(0) if flip else w
    expected = F.conv1d(
        x[None, None],
        applied[None, None],
        stride=stride,
        dilation=dilation,
        padding=_torch_padding(padding, kernel, dilation),
    )[0, 0]
    ours = (ops.convolve1d if flip else ops.correlate1d)(x, w, stride, padding, dilation)
    torch.testing.assert_close(ours, expected, **TOL)
    torch.testing.assert_close(ops.correlate1d_loops(x, applied, stride, padding, dilation), expected, **TOL)


pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))


@MANY
@given(
    h=st.integers(1, 14),
    w=st.integers(1, 14),
    kh=st.integers(1, 5),
    kw=st.integers(1, 5),
    stride=st.integers(1, 3) | pairs,
    padding=paddings | st.tuples(st.integers(0, 3), st.integers(0, 3)),
    dilation=st.integers(1, 3) | pairs,
    flip=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_2d_matches_torch(h, w, kh, kw, stride, padding, dilation, flip, seed):
    sh, sw = ops.pair(stride, "stride")
    ph, pw = ops.pair(padding, "padding")
    dh, dw = ops.pair(dilation, "dilation")
    assume(_fits(h, kh, sh, ph, dh) and _fits(w, kw, sw, pw, dw))
    assume(not (isinstance(padding, str) and padding == "same" and stride != 1))
    g = torch.Generator().manual_seed(seed)
    image, kernel = torch.randn(h, w, generator=g), torch.randn(kh, kw, generator=g)
    applied = kernel.flip(0, 1) if flip else kernel
    torch_padding = (
        (_torch_padding(ph, kh, dh), _torch_padding(pw, kw, dw))
        if not isinstance(padding, str) or padding == "full"
        else padding
    )
    expected = F.conv2d(
        image[None, None], applied[None, None], stride=stride, padding=torch_padding, dilation=dilation
    )[0, 0]
    ours = (ops.convolve2d if flip else ops.correlate2d)(image, kernel, stride, padding, dilation)
    torch.testing.assert_close(ours, expected, **TOL)


@settings(max_examples=200, deadline=None)
@given(
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    stride=st.integers(1, 2) | pairs,
    padding=st.integers(0, 2),
    dilation=st.integers(1, 2) | pairs,
    seed=st.integers(0, 2**16),
)
def test_2d_loops_match_torch(h, w, kh, kw, stride, padding, dilation, seed):
    sh, sw = ops.pair(stride, "stride")
    dh, dw = ops.pair(dilation, "dilation")
    assume(_fits(h, kh, sh, padding, dh) and _fits(w, kw, sw, padding, dw))
    g = torch.Generator().manual_seed(seed)
    image, kernel = torch.randn(h, w, generator=g), torch.randn(kh, kw, generator=g)
    expected = F.conv2d(image[None, None], kernel[None, None], stride=stride, padding=padding, dilation=dilation)
    torch.testing.assert_close(ops.correlate2d_loops(image, kernel, stride, padding, dilation), expected[0, 0], **TOL)


@MANY
@given(
    batch=st.integers(1, 3),
    groups=st.integers(1, 3),
    in_per_group=st.integers(1, 3),
    out_per_group=st.integers(1, 3),
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    stride=st.integers(1, 3) | pairs,
    padding=st.integers(0, 3) | st.sampled_from(["valid", "same"]) | st.tuples(st.integers(0, 2), st.integers(0, 2)),
    dilation=st.integers(1, 3) | pairs,
    bias=st.booleans(),
    unbatched=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_conv2d_matches_torch(
    batch, groups, in_per_group, out_per_group, h, w, kh, kw, stride, padding, dilation, bias, unbatched, seed
):
    sh, sw = ops.pair(stride, "stride")
    ph, pw = ops.pair(padding, "padding")
    dh, dw = ops.pair(dilation, "dilation")
    assume(_fits(h, kh, sh, ph, dh) and _fits(w, kw, sw, pw, dw))
    assume(not (padding == "same" and stride != 1))
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, in_per_group * groups, h, w, generator=g)
    if unbatched:
        x = x[0]
    weight = torch.randn(out_per_group * groups, in_per_group, kh, kw, generator=g)
    b = torch.randn(out_per_group * groups, generator=g) if bias else None
    expected = F.conv2d(x, weight, b, stride, padding, dilation, groups)
    torch.testing.assert_close(ops.conv2d(x, weight, b, stride, padding, dilation, groups), expected, **TOL)


# --- transposed convolution as a direct convolution --------------------------------------------------------


def _stretch_by_hand(x, sh, sw):
    h, w = x.shape[-2:]
    out = torch.zeros(*x.shape[:-2], (h - 1) * sh + 1, (w - 1) * sw + 1, dtype=x.dtype)
    for r in range(h):
        for c in range(w):
            out[..., r * sh, c * sw] = x[..., r, c]
    return out


def test_stretch_by_hand():
    assert ops.stretch([[1, 2], [3, 4]], 2).tolist() == [[1, 0, 2], [0, 0, 0], [3, 0, 4]]
    assert ops.stretch(torch.tensor([[1.0, 2, 3]]), (1, 3)).tolist() == [[1, 0, 0, 2, 0, 0, 3]]
    assert ops.stretch(torch.ones(2, 2, dtype=torch.int64), 2).dtype == torch.int64  # the dtype is kept
    assert torch.equal(ops.stretch(torch.arange(6.0).view(2, 3), 1), torch.arange(6.0).view(2, 3))


@MANY
@given(
    shape=st.sampled_from([(), (3,), (2, 3)]),
    h=st.integers(1, 6),
    w=st.integers(1, 6),
    stride=st.integers(1, 4) | pairs,
    seed=st.integers(0, 2**16),
)
def test_stretch_matches_a_hand_loop(shape, h, w, stride, seed):
    x = torch.randn(*shape, h, w, generator=torch.Generator().manual_seed(seed))
    sh, sw = ops.pair(stride, "stride")
    assert torch.equal(ops.stretch(x, stride), _stretch_by_hand(x, sh, sw))


@MANY
@given(
    batch=st.integers(1, 2),
    in_channels=st.integers(1, 3),
    out_channels=st.integers(1, 3),
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    kh=st.integers(1, 5),
    kw=st.integers(1, 5),
    stride=st.integers(1, 4) | pairs,
    data=st.data(),
    unbatched=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_conv_transpose2d_as_direct_matches_torch(
    batch, in_channels, out_channels, h, w, kh, kw, stride, data, unbatched, seed
):
    sh, sw = ops.pair(stride, "stride")
    ph, pw = data.draw(st.integers(0, kh - 1)), data.draw(st.integers(0, kw - 1))
    ah, aw = data.draw(st.integers(0, sh - 1)), data.draw(st.integers(0, sw - 1))
    assume((h - 1) * sh + kh - 2 * ph + ah >= 1 and (w - 1) * sw + kw - 2 * pw + aw >= 1)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, in_channels, h, w, generator=g, dtype=torch.float64)
    weight = torch.randn(in_channels, out_channels, kh, kw, generator=g, dtype=torch.float64)
    if unbatched:
        x = x[0]
    expected = F.conv_transpose2d(x, weight, stride=stride, padding=(ph, pw), output_padding=(ah, aw))
    ours = ops.conv_transpose2d_as_direct(x, weight, stride, (ph, pw), (ah, aw))
    assert ours.dtype == torch.float64
    torch.testing.assert_close(ours, expected)


def test_conv_transpose2d_as_direct_keeps_float32_and_takes_lists():
    x, weight = torch.randn(1, 1, 3, 3), torch.randn(1, 2, 2, 2)
    ours = ops.conv_transpose2d_as_direct(x, weight, stride=2, padding=1, output_padding=1)
    assert ours.dtype == torch.float32
    torch.testing.assert_close(ours, F.conv_transpose2d(x, weight, stride=2, padding=1, output_padding=1), **TOL)
    assert ops.conv_transpose2d_as_direct([[[[1, 2]]]], [[[[1, 10]]]]).tolist() == [[[[1, 12, 20]]]]


def test_conv2d_takes_a_non_contiguous_weight():
    x, weight = torch.randn(1, 2, 5, 5), torch.randn(2, 3, 3, 3).transpose(0, 1)
    torch.testing.assert_close(ops.conv2d(x, weight), F.conv2d(x, weight), **TOL)


# --- bad input --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (
            lambda: ops.correlate1d(torch.ones(5), torch.ones(3), dilation=4),
            ValueError,
            "a kernel of 3 with dilation 4 spans 9 positions, but the padded input has only 5",
        ),
        (
            lambda: ops.correlate1d(torch.ones(5), torch.ones(3), padding=1, dilation=4),
            ValueError,
            "padded input has only 7 (input 5 plus padding 2)",
        ),
        (
            lambda: ops.correlate2d(torch.ones(3, 8), torch.ones(2, 2), dilation=3),
            ValueError,
            "along the height: a kernel of 2 with dilation 3 spans 4 positions",
        ),
        (lambda: ops.correlate2d(torch.ones(8, 3), torch.ones(2, 5)), ValueError, "along the width"),
        (
            lambda: ops.correlate1d(torch.ones(3, 3), torch.ones(2)),
            ValueError,
            "signal must be 1-D, got a 2-D tensor of shape (3, 3)",
        ),
        (
            lambda: ops.correlate2d(torch.ones(4), torch.ones(2, 2)),
            ValueError,
            "image must be 2-D, got a 1-D",
        ),
        (lambda: ops.correlate1d(torch.ones(0), torch.ones(1)), ValueError, "signal is empty"),
        (lambda: ops.correlate1d([1.0, 2.0], [1.0], stride=0), ValueError, "stride must be positive"),
        (lambda: ops.correlate1d([1.0, 2.0], [1.0], stride=1.5), TypeError, "stride must be a whole number"),
        (
            lambda: ops.correlate1d([1.0, 2.0], [1.0], stride=2, padding="same"),
            ValueError,
            "padding='same' needs stride 1",
        ),
        (
            lambda: ops.correlate2d(torch.ones(4, 4), torch.ones(2, 2), stride=(1, 2, 3)),
            ValueError,
            "stride must be an int or an (h, w) pair",
        ),
        (lambda: ops.correlate1d("abc", [1.0]), TypeError, "signal must be a tensor"),
        (lambda: ops.correlate1d(torch.ones(3, dtype=torch.complex64), [1.0]), TypeError, "must be real"),
        (
            lambda: ops.conv2d(torch.ones(1, 3, 5, 5), torch.ones(4, 2, 3, 3)),
            ValueError,
            "input has 3 channels, but weight of shape (4, 2, 3, 3) with groups=1 expects 2 x 1 = 2",
        ),
        (
            lambda: ops.conv2d(torch.ones(1, 4, 5, 5), torch.ones(3, 2, 3, 3), groups=2),
            ValueError,
            "weight has 3 output channels, which groups=2 cannot split evenly",
        ),
        (
            lambda: ops.conv2d(torch.ones(1, 1, 5, 5), torch.ones(2, 1, 3, 3), bias=torch.ones(3)),
            ValueError,
            "bias must have one entry per output channel (2), got 3",
        ),
        (
            lambda: ops.conv2d(torch.ones(5, 5), torch.ones(1, 1, 3, 3)),
            ValueError,
            "input must be 3-D or 4-D",
        ),
        (
            lambda: ops.window_step1d(torch.ones(5), torch.ones(3), 3),
            ValueError,
            "position 3 is outside the output, which has 3 positions (0..2)",
        ),
        (
            lambda: ops.window_step2d(torch.ones(5, 5), torch.ones(3, 3), (0, 4)),
            ValueError,
            "position (column) 4",
        ),
        (lambda: ops.stretch(torch.ones(3), 2), ValueError, "x must be 2-D (h, w), 3-D (c, h, w) or 4-D"),
        (lambda: ops.stretch(torch.ones(3, 3), 0), ValueError, "stride (height) must be positive"),
        (lambda: ops.stretch(torch.ones(3, 3), (2, 1.5)), TypeError, "stride (width) must be a whole number"),
        (lambda: ops.stretch(torch.ones(0, 3), 2), ValueError, "x is empty"),
        (
            lambda: ops.conv_transpose2d_as_direct(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), padding=3),
            ValueError,
            "along the height: padding 3 is more than kernel_size - 1 = 2: the direct convolution would need "
            "k - 1 - p = -1 zeros",
        ),
        (
            lambda: ops.conv_transpose2d_as_direct(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 2), padding=(1, 2)),
            ValueError,
            "along the width: padding 2 is more than kernel_size - 1 = 1",
        ),
        (
            lambda: ops.conv_transpose2d_as_direct(
                torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), stride=2, output_padding=2
            ),
            ValueError,
            "output_padding 2 must be smaller than stride 2",
        ),
        (
            lambda: ops.conv_transpose2d_as_direct(torch.ones(1, 1, 1, 1), torch.ones(1, 1, 3, 3), padding=2),
            ValueError,
            "makes 3 positions before cropping, and padding 2 crops 4 of them, leaving -1",
        ),
        (
            lambda: ops.conv_transpose2d_as_direct(torch.ones(1, 2, 3, 3), torch.ones(1, 4, 3, 3)),
            ValueError,
            "input has 2 channels, but a transposed convolution's weight is (in, out, kh, kw)",
        ),
        (
            lambda: ops.conv_transpose2d_as_direct(torch.ones(3, 3), torch.ones(1, 1, 3, 3)),
            ValueError,
            "input must be 3-D or 4-D",
        ),
        # each names its argument and the numbers at fault (1-D errors have no axis to name)
        (
            lambda: ops.correlate1d(torch.ones(3), torch.ones(2, device="meta")),
            ValueError,
            "the input is on cpu but the kernel is on meta; move both to one device",
        ),
        (
            lambda: ops.correlate2d(torch.ones(5, 5), torch.ones(2, 2), padding=(1, 2, 3)),
            ValueError,
            "padding must be an int or an (h, w) pair, got (1, 2, 3)",
        ),
        (
            lambda: ops.correlate2d(torch.ones(5, 5), torch.ones(2, 2), dilation=(1, 1, 1)),
            ValueError,
            "dilation must be an int or an (h, w) pair, got (1, 1, 1)",
        ),
        (
            lambda: ops.conv2d(torch.ones(1, 4, 5, 5), torch.ones(2, 4, 2, 2), groups=0),
            ValueError,
            "groups must be positive (at least 1), got 0",
        ),
        (
            lambda: ops.conv2d(torch.ones(1, 4, 5, 5), torch.ones(2, 4, 2, 2), bias=torch.ones(2, 2)),
            ValueError,
            "bias must be 1-D, got a 2-D tensor of shape (2, 2)",
        ),
        (
            lambda: ops.conv2d(torch.ones(1, 4, 5, 5), torch.ones(4, 1, 2, 2), groups=2),
            ValueError,
            "input has 4 channels, but weight of shape (4, 1, 2, 2) with groups=2 expects 1 x 2 = 2; the weight's "
            "second axis is in_channels/groups",
        ),
        (lambda: ops.stretch(object(), 2), TypeError, "x must be a tensor or something torch.as_tensor takes: "),
        (
            lambda: ops.stretch(torch.ones(3, 3), (1, 2, 3)),
            ValueError,
            "stride must be an int or an (h, w) pair, got (1, 2, 3)",
        ),
    ],  # fmt: skip
)
def test_bad_input_teaches(call, error, words):
    with pytest.raises(error) as caught:
        call()
    assert words in str(caught.value)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, 2, 3])
def test_pad_input_pads_as_the_conv_layer_does(mode, padding):
    torch.manual_seed(padding)
    x = torch.randn(5, 6, dtype=torch.float64)
    layer = torch.nn.Conv2d(1, 1, 3, padding=padding, padding_mode=mode, bias=False).double()
    ours = ops.correlate2d(ops.pad_input(x, [(padding, padding)] * 2, mode), layer.weight[0, 0].detach())
    torch.testing.assert_close(ours, layer(x[None, None])[0, 0].detach())


@pytest.mark.parametrize(
    ("mode", "ints", "mask"),
    [
        ("reflect", [2, 1, 2, 3, 2], [False, True, False, False, False]),
        ("replicate", [1, 1, 2, 3, 3], [True, True, False, False, False]),
        ("circular", [3, 1, 2, 3, 1], [False, True, False, False, True]),
    ],
)
def test_pad_input_keeps_the_dtype_of_what_it_pads(mode, ints, mask):
    """Ints and a boolean mask come back as they went in (torch's reflect and replicate refuse booleans)."""
    padded = ops.pad_input(torch.tensor([1, 2, 3]), [(1, 1)], mode)
    assert padded.dtype == torch.int64 and padded.tolist() == ints
    padded = ops.pad_input(torch.tensor([True, False, False]), [(1, 1)], mode)
    assert padded.dtype == torch.bool and padded.tolist() == mask


@pytest.mark.parametrize("function", [ops.correlate1d, ops.correlate1d_loops])
def test_a_1d_error_names_no_axis(function):
    with pytest.raises(ValueError) as caught:
        function(torch.ones(5), torch.ones(2), dilation=0)
    assert str(caught.value) == "dilation must be positive (at least 1), got 0"


def test_a_bias_takes_the_inputs_dtype():
    x = torch.randn(1, 2, 4, 4)
    bias = torch.ones(3, dtype=torch.float64)
    assert ops.conv2d(x, torch.randn(3, 2, 2, 2), bias=bias).dtype == torch.float32
    assert ops.conv_transpose2d(x, torch.randn(2, 3, 2, 2), bias=bias).dtype == torch.float32


def test_pad_input_explains_what_torch_refuses():
    assert ops.padding_mode_problem(4, 3, 3, "reflect") is None  # reflect gives at most size - 1 per side
    assert ops.padding_mode_problem(4, 4, 4, "reflect") and ops.padding_mode_problem(4, 4, 4, "zeros") is None
    with pytest.raises(ValueError, match="an input of 4 can give at most 3 cells per side, but this padding needs 4"):
        ops.pad_input(torch.zeros(4), [(4, 0)], "reflect")
    with pytest.raises(ValueError, match="at most 4 cells per side, but this padding needs 5"):
        ops.pad_input(torch.zeros(4), [(0, 5)], "circular")


def test_pad_input_explains_bad_pads_instead_of_cropping():
    x = torch.arange(9.0).reshape(3, 3)
    assert F.pad(x, (0, 0, -1, 0)).shape == (2, 3)  # what torch would silently do with a negative pad: crop
    with pytest.raises(ValueError, match=r"^pads\[0\] must be at least 0, got -1$"):
        ops.pad_input(x, [(-1, 0), (0, 0)])
    with pytest.raises(TypeError, match=r"^pads\[1\] must be a whole number, got 1.5 \(float\)$"):
        ops.pad_input(x, [(0, 0), (1.5, 1)])
    for pads in ([1, 1], [(1, 1)], [(1, 1, 1), (0, 0)], 2):
        with pytest.raises(ValueError) as caught:
            ops.pad_input(x, pads)
        assert str(caught.value) == (
            f"pads must hold one (left, right) pair per axis of x (2 for shape (3, 3)), e.g. [(1, 1), (1, 1)], "
            f"got {pads!r}"
        )
    with pytest.raises(ValueError, match=r"^x must be 1-D or 2-D, got a 3-D tensor of shape \(1, 3, 3\)$"):
        ops.pad_input(x[None], [(1, 1)] * 3)
    with pytest.raises(TypeError, match="^x must be a tensor or something torch.as_tensor takes"):
        ops.pad_input("abc", [(1, 1)])
    torch.testing.assert_close(ops.pad_input([1, 2], [(1, 0)]), torch.tensor([0, 1, 2]))  # a list, ints kept


# --- what mutation testing found (make mutation): the step-by-step maths, defaults, names, dtypes --------------


def test_window_step1d_is_one_output_of_correlate1d_or_convolve1d_with_every_field():
    signal, kernel = torch.tensor([3.0, -1.0, 4.0, 1.0, -5.0, 9.0]), torch.tensor([2.0, 0.5, -1.0])  # asymmetric
    for flip, full in ((False, F.conv1d), (True, None)):
        reference = (
            ops.convolve1d(signal, kernel, padding=1) if flip else full(signal[None], kernel[None, None], padding=1)[0]
        )
        for i in range(reference.shape[0]):
            step = ops.window_step1d(signal, kernel, i, padding=1, flip=flip)
            applied = kernel.flip(0) if flip else kernel
            padded = F.pad(signal, (1, 1))
            assert step.position == (i,) and step.output_shape == tuple(reference.shape) and step.rows is None
            assert torch.equal(step.padded, padded) and torch.equal(step.kernel, applied)
            assert step.cols.tolist() == [i, i + 1, i + 2] and torch.equal(step.window, padded[i : i + 3])
            assert torch.equal(step.products, padded[i : i + 3] * applied)
            assert step.total == pytest.approx(float(reference[i]), abs=1e-6)


def test_window_step2d_defaults_are_a_plain_correlation():
    image = torch.arange(30.0).reshape(5, 6) % 7
    kernel = torch.tensor([[1.0, 2.0], [0.0, -3.0]])  # asymmetric: a flip shows
    reference = F.conv2d(image[None, None], kernel[None, None])[0, 0]  # stride 1, padding 0, dilation 1, no flip
    for i, j in [(0, 0), (3, 4), (2, 1)]:
        step = ops.window_step2d(image, kernel, (i, j))
        assert step.position == (i, j) and step.output_shape == (4, 5)
        assert step.rows.tolist() == [i, i + 1] and step.cols.tolist() == [j, j + 1]
        assert torch.equal(step.padded, image) and torch.equal(step.kernel, kernel)
        assert torch.equal(step.products, image[i : i + 2, j : j + 2] * kernel)
        assert step.total == pytest.approx(float(reference[i, j]))
    assert ops.window_step2d(image, kernel, 3).position == (3, 3)  # one int: the same row and column


def test_window_steps_name_what_is_wrong():
    cases = [
        (lambda: ops.window_step1d("abc", [1.0], 0), TypeError, "^signal must be a tensor"),
        (lambda: ops.window_step1d([1.0, 2.0], [[1.0]], 0), ValueError, r"^kernel must be 1-D, got a 2-D tensor"),
        (lambda: ops.window_step1d([1.0, 2.0], [1.0, 1.0, 1.0], 0), ValueError, "^a kernel of 3 spans 3 positions"),
        (lambda: ops.window_step2d([1.0, 2.0], [[1.0]], 0), ValueError, r"^image must be 2-D, got a 1-D tensor"),
        (lambda: ops.window_step2d([[1.0]], [1.0], 0), ValueError, r"^kernel must be 2-D, got a 1-D tensor"),
        (
            lambda: ops.window_step2d([[1.0]], [[1.0]], (0, 0, 0)),
            ValueError,
            r"^position must be an int or an \(h, w\)",
        ),
        (
            lambda: ops.window_step2d(torch.ones(5, 5), torch.ones(3, 3), (3, 0)),
            ValueError,
            r"^position \(row\) 3 is outside the output, which has 3 positions \(0..2\)$",
        ),
        (
            lambda: ops.window_step2d(torch.ones(5, 5), torch.ones(3, 3), (0, -1)),
            ValueError,
            r"^position \(column\) must be at least 0, got -1$",
        ),
        (
            lambda: ops.window_step2d(torch.ones(2, 5), torch.ones(3, 3), 0),
            ValueError,
            "^along the height: a kernel of 3 spans 3 positions",
        ),
    ]
    for call, error, pattern in cases:
        with pytest.raises(error, match=pattern):
            call()


@pytest.mark.parametrize(
    "function",
    [ops.correlate1d, ops.convolve1d, ops.correlate1d_loops, lambda s, k: ops.window_step1d(s, k, 0).products],
)
def test_1d_results_take_the_wider_dtype_of_input_and_kernel(function):
    signal, kernel = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, -1.0])
    assert function(signal, kernel.double()).dtype == torch.float64  # the input promoted to the kernel's dtype
    assert function(signal.double(), kernel).dtype == torch.float64  # and the other way round
    assert function(signal, kernel).dtype == torch.float32


@pytest.mark.parametrize(
    "function",
    [ops.correlate2d, ops.convolve2d, ops.correlate2d_loops, lambda x, k: ops.window_step2d(x, k, 0).products],
)
def test_2d_results_take_the_wider_dtype_of_input_and_kernel(function):
    image, kernel = torch.ones(3, 3), torch.ones(2, 2)
    assert function(image, kernel.double()).dtype == torch.float64
    assert function(image.double(), kernel).dtype == torch.float64
    assert function(image, kernel).dtype == torch.float32


def test_the_loop_versions_keep_float64():
    torch.manual_seed(1)
    x, w = torch.randn(6, 5, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64)
    out = ops.correlate2d_loops(x, w, stride=(2, 1), padding=1, dilation=(1, 2))
    reference = F.conv2d(x[None, None], w[None, None], stride=(2, 1), padding=1, dilation=(1, 2))[0, 0]
    assert out.dtype == torch.float64 and torch.allclose(out, reference, atol=1e-12)
    signal, kernel = torch.randn(9, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    out = ops.correlate1d_loops(signal, kernel, stride=2, padding=2, dilation=2)
    reference = F.conv1d(signal[None, None], kernel[None, None], stride=2, padding=2, dilation=2)[0, 0]
    assert out.dtype == torch.float64 and torch.allclose(out, reference, atol=1e-12)


def test_the_defaults_are_torchs():
    signal, kernel = torch.arange(7.0) ** 2 % 5, torch.tensor([1.0, -2.0, 0.5])
    expected = F.conv1d(signal[None, None], kernel[None, None])[0, 0]
    for function in (ops.correlate1d, ops.correlate1d_loops):
        torch.testing.assert_close(function(signal, kernel), expected)
    torch.testing.assert_close(
        ops.convolve1d(signal, kernel), F.conv1d(signal[None, None], kernel.flip(0)[None, None])[0, 0]
    )
    image, kernel2 = (torch.arange(42.0) ** 2 % 11).reshape(6, 7), torch.tensor([[1.0, 0.0], [2.0, -1.0]])
    expected = F.conv2d(image[None, None], kernel2[None, None])[0, 0]
    for function in (ops.correlate2d, ops.correlate2d_loops):
        torch.testing.assert_close(function(image, kernel2), expected)
    torch.testing.assert_close(
        ops.convolve2d(image, kernel2), F.conv2d(image[None, None], kernel2.flip(0, 1)[None, None])[0, 0]
    )
    weight = kernel2.expand(3, 2, 2, 2).clone()
    batch = image.expand(1, 2, 6, 7)
    torch.testing.assert_close(ops.conv2d(batch, weight), F.conv2d(batch, weight))


def test_padding_mode_problem_counts_cells_and_wraps_exactly_once():
    one = ops.padding_mode_problem(2, 0, 2, "reflect")
    assert "an input of 2 can give at most 1 cell per side, but this padding needs 2" in one
    assert "an input of 3 can give at most 2 cells per side" in ops.padding_mode_problem(3, 3, 0, "reflect")
    with pytest.raises(RuntimeError):
        F.pad(torch.zeros(1, 1, 2), (0, 2), mode="reflect")  # torch refuses what the sentence says
    assert ops.padding_mode_problem(3, 0, 3, "circular") is None  # once around: torch takes it
    assert F.pad(torch.arange(3.0)[None, None], (0, 3), mode="circular").shape[-1] == 6
    assert "can give at most 3 cells per side, but this padding needs 4" in ops.padding_mode_problem(
        3, 4, 0, "circular"
    )
    with pytest.raises(ValueError) as caught:
        ops.padding_mode_problem(3, 1, 1, "wrap")
    assert str(caught.value) == "padding_mode must be one of ('zeros', 'reflect', 'replicate', 'circular'), got 'wrap'"


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_input_keeps_integers_in_every_mode(mode):
    x = torch.tensor([[1, 2, 3], [4, 5, 6]])
    padded = ops.pad_input(x, [(1, 0), (2, 1)], mode)
    expected = F.pad(x[None, None].double(), (2, 1, 1, 0), mode=mode)[0, 0].long()
    assert padded.dtype == torch.int64 and torch.equal(padded, expected)


def test_overlap_counts_defaults_and_names():
    # input i stamps the kernel on outputs i .. i + d(k - 1) (stride 1): counted by hand
    by_hand = torch.zeros(6, dtype=torch.long)
    for i in range(4):
        by_hand[i : i + 3] += 1
    assert torch.equal(ops.overlap_counts(4, 3), by_hand)
    assert ops.overlap_counts(4, 3).tolist() == [1, 2, 3, 3, 2, 1]
    assert ops.overlap_counts((2, 4), (1, 3)).tolist() == [[1, 2, 3, 3, 2, 1]] * 2
    with pytest.raises(ValueError, match=r"^input_size must be an int or an \(h, w\) pair, got \(1, 2, 3\)$"):
        ops.overlap_counts((1, 2, 3), (1, 1))
    with pytest.raises(ValueError, match=r"^kernel_size must be an int or an \(h, w\) pair, got \(1, 2, 3\)$"):
        ops.overlap_counts((2, 2), (1, 2, 3))
    with pytest.raises(ValueError, match=r"^input_size must be positive \(at least 1\), got 0$"):
        ops.overlap_counts((0, 2), 1)
    with pytest.raises(ValueError, match=r"^input_size must be positive \(at least 1\), got 0$"):
        ops.overlap_counts((2, 0), 1)
    with pytest.raises(ValueError, match=r"^kernel_size must be positive \(at least 1\), got 0$"):
        ops.overlap_counts((2, 2), (0, 1))
    with pytest.raises(ValueError, match=r"^kernel_size must be positive \(at least 1\), got 0$"):
        ops.overlap_counts((2, 2), (1, 0))


def test_conv_matrix_names_its_input_size():
    with pytest.raises(ValueError, match=r"^input_size must be an int or an \(h, w\) pair, got \(3, 3, 3\)$"):
        ops.conv_matrix(torch.ones(2, 2), (3, 3, 3))
    with pytest.raises(ValueError, match=r"^input_size \(width\) must be positive \(at least 1\), got 0$"):
        ops.conv_matrix(torch.ones(2, 2), (3, 0))


def test_batch_norm2d_names_what_is_wrong():
    x = torch.randn(2, 3, 4, 4)
    cases = [
        (lambda: ops.batch_norm2d(x[0]), ValueError, r"^x \(an N, C, H, W batch\) must be 4-D, got a 3-D tensor"),
        (
            lambda: ops.batch_norm2d(x, training="yes"),
            TypeError,
            r"^training must be True or False, got 'yes' \(str\)$",
        ),
        (lambda: ops.batch_norm2d(x, eps="a"), TypeError, r"^eps must be a number, got 'a' \(str\)$"),
        (lambda: ops.batch_norm2d(x, momentum=None), TypeError, r"^momentum must be a number, got None \(NoneType\)$"),
        (
            lambda: ops.batch_norm2d(x, torch.zeros(2), torch.ones(3)),
            ValueError,
            r"^running_mean must hold one value per channel: shape \(3,\) for an input with 3 channels",
        ),
        (
            lambda: ops.batch_norm2d(x, [0.0, 0.0, 0.0], [[1.0, 1.0, 1.0]], training=False),
            ValueError,
            r"^running_var must be 1-D, got a 2-D tensor",
        ),
        (
            lambda: ops.batch_norm2d(x, torch.zeros(3, device="meta"), torch.ones(3)),
            ValueError,
            r"^running_mean is on meta but the input is on cpu; move both to one device$",
        ),
    ]
    for call, error, pattern in cases:
        with pytest.raises(error, match=pattern):
            call()


def test_batch_norm2d_takes_lists_for_its_per_channel_values():
    x = torch.randn(2, 3, 4, 4)
    mean, var, weight, bias = [0.5, -1.0, 2.0], [1.0, 4.0, 0.25], [1, 2, 3], [0.0, 0.5, -0.5]
    ours = ops.batch_norm2d(x, mean, var, weight, bias, training=False)
    tensors = [torch.tensor(v, dtype=torch.float32) for v in (mean, var, weight, bias)]
    torch.testing.assert_close(ours, F.batch_norm(x, *tensors[:2], *tensors[2:], training=False))


def test_batch_norm2d_names_the_bias_and_wants_both_running_statistics():
    x = torch.randn(2, 3, 4, 4)
    with pytest.raises(ValueError, match=r"^bias must hold one value per channel: shape \(3,\)"):
        ops.batch_norm2d(x, bias=torch.zeros(2))
    with pytest.raises(ValueError, match=r"^give both running_mean and running_var, or neither$"):
        ops.batch_norm2d(x, running_mean=torch.zeros(3))


def test_the_loop_and_unfold_versions_name_their_arguments():
    for function in (ops.correlate2d, ops.correlate2d_loops, ops.convolve2d):
        with pytest.raises(ValueError, match=r"^image must be 2-D, got a 1-D tensor of shape \(2,\)$"):
            function([1.0, 2.0], [[1.0]])
        with pytest.raises(ValueError, match=r"^kernel must be 2-D, got a 1-D tensor of shape \(1,\)$"):
            function([[1.0, 2.0]], [1.0])
    for function in (ops.correlate1d, ops.correlate1d_loops, ops.convolve1d):
        with pytest.raises(ValueError, match=r"^signal must be 1-D, got a 2-D tensor of shape \(1, 2\)$"):
            function([[1.0, 2.0]], [1.0])
        with pytest.raises(ValueError, match=r"^kernel must be 1-D, got a 2-D tensor of shape \(1, 1\)$"):
            function([1.0, 2.0], [[1.0]])
