"""cnn_lessons.ops: the convolution matrix and the transposed convolution, equal to torch over many configurations."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnn_lessons import ops

MANY = settings(max_examples=150, deadline=None)
TOL = dict(atol=1e-5, rtol=1e-5)
pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))


def _transposed_size(i, k, s, p, a, d):
    """torch's documented formula (nn.ConvTranspose2d), written here independently of the package."""
    return (i - 1) * s - 2 * p + d * (k - 1) + a + 1


# --- conv_matrix ----------------------------------------------------------------------------------------------


def test_conv_matrix_by_hand():
    # a 3x3 input, a 2x2 kernel: 4 outputs, each row holds the kernel at its window's cells
    c = ops.conv_matrix(torch.tensor([[1.0, 2], [3, 4]]), 3)
    assert c.tolist() == [
        [1, 2, 0, 3, 4, 0, 0, 0, 0],
        [0, 1, 2, 0, 3, 4, 0, 0, 0],
        [0, 0, 0, 1, 2, 0, 3, 4, 0],
        [0, 0, 0, 0, 1, 2, 0, 3, 4],
    ]


@MANY
@given(
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    stride=st.integers(1, 3) | pairs,
    padding=st.integers(0, 2) | st.sampled_from(["valid", "same"]) | st.tuples(st.integers(0, 2), st.integers(0, 2)),
    dilation=st.integers(1, 3) | pairs,
    seed=st.integers(0, 2**16),
)
def test_conv_matrix_matches_conv2d_and_its_transpose_conv_transpose2d(h, w, kh, kw, stride, padding, dilation, seed):
    sh, sw = ops.pair(stride, "stride")
    ph, pw = ops.pair(padding, "padding")
    dh, dw = ops.pair(dilation, "dilation")
    assume(not (padding == "same" and (sh, sw) != (1, 1)))
    if isinstance(ph, int):
        assume(h + 2 * ph >= dh * (kh - 1) + 1 and w + 2 * pw >= dw * (kw - 1) + 1)
    else:
        assume(h >= dh * (kh - 1) + 1 or ph == "same")
        assume(w >= dw * (kw - 1) + 1 or pw == "same")
    g = torch.Generator().manual_seed(seed)
    x, kernel = (
        torch.randn(h, w, generator=g, dtype=torch.float64),
        torch.randn(kh, kw, generator=g, dtype=torch.float64),
    )
    y = F.conv2d(x[None, None], kernel[None, None], stride=stride, padding=padding, dilation=dilation)
    c = ops.conv_matrix(kernel, (h, w), stride, padding, dilation)
    assert c.shape == (y.numel(), h * w)
    torch.testing.assert_close(c @ x.flatten(), y.flatten())
    if isinstance(ph, int) and isinstance(pw, int):  # C^T is the transposed convolution, given the input's size
        a = [n + 2 * p - d * (k - 1) - 1 - (m - 1) * s for n, p, d, k, m, s in
             ((h, ph, dh, kh, y.shape[2], sh), (w, pw, dw, kw, y.shape[3], sw))]  # fmt: skip
        assume(a[0] < max(sh, dh) and a[1] < max(sw, dw))
        back = F.conv_transpose2d(y, kernel[None, None], None, stride, (ph, pw), tuple(a), 1, dilation)
        torch.testing.assert_close(c.T @ y.flatten(), back.flatten())


def test_conv_matrix_is_the_input_gradient_and_passes_gradients_to_the_weight():
    torch.manual_seed(0)
    x = torch.randn(6, 6, requires_grad=True)
    kernel = torch.randn(3, 3, requires_grad=True)
    y = F.conv2d(x[None, None], kernel[None, None], stride=2, padding=1)
    grad_y = torch.randn_like(y)
    y.backward(grad_y)
    c = ops.conv_matrix(kernel, 6, stride=2, padding=1)
    torch.testing.assert_close(c.detach().T @ grad_y.flatten(), x.grad.flatten(), **TOL)
    kernel_grad = torch.autograd.grad((c @ x.detach().flatten()) @ grad_y.flatten(), kernel)[0]
    torch.testing.assert_close(kernel_grad, kernel.grad, **TOL)


# --- conv_transpose2d ------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    batch=st.integers(1, 3),
    groups=st.integers(1, 3),
    in_per_group=st.integers(1, 3),
    out_per_group=st.integers(1, 3),
    h=st.integers(1, 6),
    w=st.integers(1, 6),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    stride=st.integers(1, 3) | pairs,
    dilation=st.integers(1, 3) | pairs,
    bias=st.booleans(),
    unbatched=st.booleans(),
    data=st.data(),
    seed=st.integers(0, 2**16),
)
def test_conv_transpose2d_matches_torch(
    batch, groups, in_per_group, out_per_group, h, w, kh, kw, stride, dilation, bias, unbatched, data, seed
):
    sh, sw = ops.pair(stride, "stride")
    dh, dw = ops.pair(dilation, "dilation")
    ph, pw = data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))
    ah, aw = data.draw(st.integers(0, max(sh, dh) - 1)), data.draw(st.integers(0, max(sw, dw) - 1))
    assume(_transposed_size(h, kh, sh, ph, ah, dh) >= 1 and _transposed_size(w, kw, sw, pw, aw, dw) >= 1)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, in_per_group * groups, h, w, generator=g)
    if unbatched:
        x = x[0]
    weight = torch.randn(in_per_group * groups, out_per_group, kh, kw, generator=g)
    b = torch.randn(out_per_group * groups, generator=g) if bias else None
    args = (b, stride, (ph, pw), (ah, aw), groups, dilation)
    expected = F.conv_transpose2d(x, weight, *args)
    ours = ops.conv_transpose2d(x, weight, *args)
    assert ours.shape == expected.shape and ours.dtype == torch.float32
    torch.testing.assert_close(ours, expected, **TOL)


def test_conv_transpose2d_is_the_input_gradient_of_conv2d():
    torch.manual_seed(1)
    for stride, padding, dilation in [(1, 0, 1), (2, 1, 1), (3, 2, 2), ((2, 1), (0, 1), (1, 2))]:
        x = torch.randn(2, 3, 9, 8, dtype=torch.float64, requires_grad=True)
        weight = torch.randn(4, 3, 3, 3, dtype=torch.float64)
        y = F.conv2d(x, weight, stride=stride, padding=padding, dilation=dilation)
        grad_y = torch.randn_like(y)
        (grad_x,) = torch.autograd.grad(y, x, grad_y)
        sh, sw = ops.pair(stride, "stride")
        ph, pw = ops.pair(padding, "padding")
        dh, dw = ops.pair(dilation, "dilation")
        missing = [x.shape[2 + a] - _transposed_size(y.shape[2 + a], 3, s, p, 0, d)
                   for a, s, p, d in ((0, sh, ph, dh), (1, sw, pw, dw))]  # fmt: skip
        ours = ops.conv_transpose2d(grad_y, weight, None, stride, padding, tuple(missing), 1, dilation)
        torch.testing.assert_close(ours, grad_x)


def test_conv_transpose2d_by_hand_and_with_lists():
    # each input value stamps the kernel [1, 10] scaled by itself, one cell apart: overlaps add
    assert ops.conv_transpose2d([[[[1, 2]]]], [[[[1, 10]]]]).tolist() == [[[[1, 12, 20]]]]
    # stride 2: the copies no longer overlap
    assert ops.conv_transpose2d([[[[1, 2]]]], [[[[1, 10]]]], stride=2).tolist() == [[[[1, 10, 2, 20]]]]
    x = torch.randn(1, 1, 3, 3, dtype=torch.float64)
    assert ops.conv_transpose2d(x, torch.ones(1, 1, 2, 2)).dtype == torch.float64


def _count_by_hand(n, k, s, p, a, d):
    out = [0] * (_transposed_size(n, k, s, 0, a, d) + 0)
    for i in range(n):
        for j in range(k):
            out[i * s + j * d] += 1
    return out[p : len(out) - p]


@pytest.mark.parametrize(
    ("n", "k", "s", "p", "a", "d"),
    [
        (5, 3, 2, 0, 0, 1),
        (5, 4, 2, 0, 0, 1),
        (4, 3, 2, 1, 1, 1),
        (3, 3, 3, 0, 0, 1),
        (4, 2, 1, 0, 0, 2),
        (6, 5, 3, 2, 2, 1),
    ],
)
def test_overlap_counts_by_hand(n, k, s, p, a, d):
    assert ops.overlap_counts(n, k, s, p, a, d).tolist() == _count_by_hand(n, k, s, p, a, d)
    two = ops.overlap_counts((n, 2), (k, 1), (s, 1), (p, 0), (a, 0), (d, 1))
    assert two.tolist() == [[c, c] for c in _count_by_hand(n, k, s, p, a, d)]


# --- bad input: the same refusals as torch, explained ----------------------------------------------------------

REFUSED = [
    (
        dict(input=torch.ones(1, 1, 3, 3), weight=torch.ones(1, 1, 3, 3), stride=2, output_padding=2),
        "along the height: output_padding 2 must be smaller than stride 2 or dilation 1",
    ),
    (
        dict(input=torch.ones(1, 1, 3, 3), weight=torch.ones(1, 1, 3, 3), stride=(1, 2), output_padding=(0, 3)),
        "along the width: output_padding 3 must be smaller than stride 2",
    ),
    (
        dict(input=torch.ones(1, 1, 1, 1), weight=torch.ones(1, 1, 3, 3), padding=2),
        "makes 3 positions before cropping, and padding 2 crops 4 of them, leaving -1",
    ),
    (
        dict(input=torch.ones(1, 2, 3, 3), weight=torch.ones(4, 1, 3, 3)),
        "input has 2 channels, but a transposed convolution's weight is (in, out/groups, kh, kw)",
    ),
    (
        dict(input=torch.ones(1, 3, 3, 3), weight=torch.ones(3, 1, 3, 3), groups=2),
        "input has 3 channels, which groups=2 cannot split evenly",
    ),
    (
        dict(input=torch.ones(1, 2, 3, 3), weight=torch.ones(2, 2, 3, 3), bias=torch.ones(3), groups=2),
        "bias must have one entry per output channel (2 x groups 2 = 4), got 3",
    ),
    (dict(input=torch.ones(3, 3), weight=torch.ones(1, 1, 3, 3)), "input must be 3-D or 4-D"),
    (dict(input=torch.ones(1, 1, 3, 3), weight=torch.ones(1, 3, 3)), "weight must be 4-D"),
    (dict(input=torch.ones(1, 1, 3, 3), weight=torch.ones(1, 1, 3, 3), stride=0), "stride must be positive"),
]


@pytest.mark.parametrize(("kwargs", "words"), REFUSED, ids=[w[:40] for _, w in REFUSED])
def test_conv_transpose2d_refuses_what_torch_refuses_and_says_why(kwargs, words):
    with pytest.raises(RuntimeError):  # torch refuses these too (without the explanation)
        F.conv_transpose2d(**kwargs)
    with pytest.raises(ValueError) as caught:
        ops.conv_transpose2d(**kwargs)
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (
            lambda: ops.conv_transpose2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2), padding=1.5),
            TypeError,
            "padding must be a whole number",
        ),
        (
            lambda: ops.conv_transpose2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2), padding="same"),
            TypeError,
            "padding must be a whole number",
        ),
        (
            lambda: ops.conv_transpose2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2), stride=(1, 2, 3)),
            ValueError,
            "stride must be an int or an (h, w) pair",
        ),
        (lambda: ops.conv_transpose2d(torch.ones(1, 1, 0, 3), torch.ones(1, 1, 2, 2)), ValueError, "input is empty"),
        (lambda: ops.conv_matrix(torch.ones(3, 3), 2), ValueError, "along the height: a kernel of 3 spans 3 positions"),
        (lambda: ops.conv_matrix(torch.ones(1, 3, 3), 5), ValueError, "weight must be 2-D"),
        (lambda: ops.conv_matrix(torch.ones(3, 3), (5, 0)), ValueError, "input_size (width) must be positive"),
        (
            lambda: ops.conv_matrix(torch.ones(3, 3), 5, stride=2, padding="same"),
            ValueError,
            "padding='same' needs stride 1",
        ),
        # each message names the argument, the axis and the numbers at fault, and what would do instead
        (
            lambda: ops.conv_transpose2d_as_direct(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 4), padding=(1, 4)),
            ValueError,
            "along the width: padding 4 is more than kernel_size - 1 = 3: the direct convolution would need k - 1 - p "
            "= -1 zeros around the stretched input, i.e. cropping it, which this construction does not do; use "
            "padding at most 3 (F.conv_transpose2d crops instead)",
        ),
        (
            lambda: ops.conv_transpose2d_as_direct(
                torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), stride=(1, 3), output_padding=(0, 3)
            ),
            ValueError,
            "along the width: output_padding 3 must be smaller than stride 3: a stride-3 convolution maps 3 "
            "neighbouring input sizes to one output size, and output_padding (0 to 2) picks which of them to give back",
        ),
        (
            lambda: ops.conv_transpose2d_as_direct(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), padding=-1),
            ValueError,
            "along the height: padding must be at least 0, got -1",
        ),
        (
            lambda: ops.conv_transpose2d_as_direct(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), output_padding=-1),
            ValueError,
            "along the height: output_padding must be at least 0, got -1",
        ),
        (
            lambda: ops.conv_transpose2d_as_direct(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), stride=(1, 0)),
            ValueError,
            "stride (width) must be positive (at least 1), got 0",
        ),
        (
            lambda: ops.conv_transpose2d_as_direct(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), stride=(1, 2, 3)),
            ValueError,
            "stride must be an int or an (h, w) pair, got (1, 2, 3)",
        ),
        (
            lambda: ops.conv_transpose2d_as_direct(torch.ones(1, 2, 3, 3), torch.ones(3, 1, 2, 2)),
            ValueError,
            "input has 2 channels, but a transposed convolution's weight is (in, out, kh, kw) and this one, of shape "
            "(3, 1, 2, 2), expects 3; its first axis must be the input's channels",
        ),
        (
            lambda: ops.conv_transpose2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), output_padding=(0, -1)),
            ValueError,
            "along the width: output_padding must be at least 0, got -1",
        ),
        (
            lambda: ops.conv_transpose2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), dilation=(1, 0)),
            ValueError,
            "along the width: dilation must be positive (at least 1), got 0",
        ),
        (
            lambda: ops.conv_transpose2d(
                torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), stride=2, dilation=3, output_padding=3
            ),
            ValueError,
            "along the height: output_padding 3 must be smaller than stride 2 or dilation 3 (torch refuses it "
            "otherwise): a stride-2 convolution maps 2 neighbouring input sizes to one output size, and "
            "output_padding (0 to 2) picks which of them to give back",
        ),
        (
            lambda: ops.conv_transpose2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), groups=0),
            ValueError,
            "groups must be positive (at least 1), got 0",
        ),
        (
            lambda: ops.conv_transpose2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), bias=torch.ones(1, 1)),
            ValueError,
            "bias must be 1-D, got a 2-D tensor of shape (1, 1)",
        ),
        *(
            (
                lambda name=name: ops.conv_transpose2d(
                    torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), **{name: (0,) * 3}
                ),
                ValueError,
                f"{name} must be an int or an (h, w) pair, got (0, 0, 0)",
            )
            for name in ("padding", "output_padding", "dilation")
        ),
    ],  # fmt: skip
)
def test_bad_input_teaches(call, error, words):
    with pytest.raises(error) as caught:
        call()
    assert words in str(caught.value)
