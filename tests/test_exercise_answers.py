"""Student answers, written the way students write them, against every exercise checker.

For each exercise: wrong answers (each typical mistake must be rejected and named in the message), strange ones
(None, text, the wrong type or shape, a function that raises or never returns: each must get a message, never a
traceback from the checker) and correct but unusual ones (vectorised, in place on a copy, a tuple or a numpy
integer where that is fine: each must be accepted). A checker may raise nothing but ExerciseFailed.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cnn_lessons import exercises
from cnn_lessons.exercises import ExerciseFailed
from cnn_lessons.models import Bottleneck

SHORT = 0.3  # seconds: the time limit in these tests, so that a function that never returns fails fast

# --- lesson 01: correlate1d ------------------------------------------------------------------------------------


def c1_flipped(signal, kernel):
    n, k = len(signal), len(kernel)
    return [sum(signal[i + j] * kernel[k - 1 - j] for j in range(k)) for i in range(n - k + 1)]


def c1_flips_in_place(signal, kernel):
    kernel[:] = kernel.flip(0)
    n, k = len(signal), len(kernel)
    return [sum(signal[i + j] * kernel[j] for j in range(k)) for i in range(n - k + 1)]


def c1_stops_early(signal, kernel):
    out = []
    for i in range(len(signal) - len(kernel)):
        out.append(sum(signal[i + j] * kernel[j] for j in range(len(kernel))))
    return out


def c1_full(signal, kernel):
    k = len(kernel)
    padded = [0.0] * (k - 1) + signal.tolist() + [0.0] * (k - 1)
    return [sum(padded[i + j] * kernel[j] for j in range(k)) for i in range(len(padded) - k + 1)]


def c1_same(signal, kernel):
    return F.conv1d(signal[None, None], kernel[None, None], padding="same")[0, 0]


def c1_no_j_in_signal(signal, kernel):
    n, k = len(signal), len(kernel)
    return [sum(signal[i] * kernel[j] for j in range(k)) for i in range(n - k + 1)]


def c1_no_i(signal, kernel):
    n, k = len(signal), len(kernel)
    return [sum(signal[j] * kernel[j] for j in range(k)) for i in range(n - k + 1)]


def c1_no_weights(signal, kernel):
    n, k = len(signal), len(kernel)
    return [sum(signal[i + j] for j in range(k)) for i in range(n - k + 1)]


def c1_mean(signal, kernel):
    n, k = len(signal), len(kernel)
    return [sum(signal[i + j] * kernel[j] for j in range(k)) / k for i in range(n - k + 1)]


def c1_products(signal, kernel):
    n, k = len(signal), len(kernel)
    return [[float(signal[i + j] * kernel[j]) for j in range(k)] for i in range(n - k + 1)]


def c1_reversed(signal, kernel):
    n, k = len(signal), len(kernel)
    out = []
    for i in range(n - k + 1):
        out.insert(0, sum(signal[i + j] * kernel[j] for j in range(k)))
    return out


def c1_total(signal, kernel):
    n, k = len(signal), len(kernel)
    return float(sum(signal[i + j] * kernel[j] for i in range(n - k + 1) for j in range(k)))


def c1_conv1d_batch(signal, kernel):
    return F.conv1d(signal[None, None], kernel[None, None])


def c1_no_return(signal, kernel):
    out = []
    for i in range(len(signal) - len(kernel) + 1):
        out.append(sum(signal[i + j] * kernel[j] for j in range(len(kernel))))


def c1_text(signal, kernel):
    return str(
        [
            float(sum(signal[i + j] * kernel[j] for j in range(len(kernel))))
            for i in range(len(signal) - len(kernel) + 1)
        ]
    )


def c1_index_error(signal, kernel):
    return [sum(signal[i + j] * kernel[j] for j in range(len(kernel))) for i in range(len(signal))]


def c1_forever(signal, kernel):
    out, i = [], 0
    while i < len(signal) - len(kernel) + 1:
        out.append(sum(signal[i + j] * kernel[j] for j in range(len(kernel))))
    return out


def c1_generator(signal, kernel):
    for i in range(len(signal) - len(kernel) + 1):
        yield sum(signal[i + j] * kernel[j] for j in range(len(kernel)))


def c1_unfold(signal, kernel):
    return signal.unfold(0, len(kernel), 1) @ kernel


def c1_numpy(signal, kernel):
    return np.correlate(signal.numpy(), kernel.numpy(), mode="valid")


def c1_own_buffer(signal, kernel):
    n, k = len(signal), len(kernel)
    out = torch.zeros(n - k + 1)
    for i in range(n - k + 1):
        for j in range(k):
            out[i] += signal[i + j] * kernel[j]
    return out


def c1_tuple(signal, kernel):
    return tuple(float(signal[i : i + len(kernel)] @ kernel) for i in range(len(signal) - len(kernel) + 1))


CORRELATE1D = {
    "wrong": [
        (c1_flipped, "you flipped the kernel: that is convolution"),
        (c1_flips_in_place, ("you flipped the kernel", "changed its argument `kernel`")),
        (c1_stops_early, "stops one position early"),
        (c1_full, "'full' correlation"),
        (c1_same, "kept the signal's length"),
        (c1_no_j_in_signal, "multiplied signal[i] by every weight"),
        (c1_no_i, "the first window's"),
        (c1_no_weights, "without the weights"),
        (c1_mean, "averaged the products"),
        (c1_products, "kept each window's products"),
        (c1_reversed, "reverse order"),
        (c1_total, "added all the outputs up into one number"),
        (c1_conv1d_batch, ("the right values, but with shape (1, 1, 6)", "extra axis")),
    ],
    "strange": [
        (c1_no_return, "returned None: did you forget `return`?"),
        (c1_text, "returned the string"),
        (c1_index_error, ("raised IndexError", "an index ran past the end")),
        (c1_forever, "did not return within 0.3 s"),
        (c1_generator, "a generator"),
        (lambda signal, kernel: torch.zeros(3, 3), "shape (3, 3), the answer's is (6,)"),
        (lambda signal, kernel: {0: 1.0}, "has no order"),
    ],
    "correct": [c1_unfold, c1_numpy, c1_own_buffer, c1_tuple],
}


# --- lesson 01: convolve2d -------------------------------------------------------------------------------------


def conv2d_with(image, kernel, **options):
    return F.conv2d(image[None, None], kernel[None, None], **options)[0, 0]


def c2_loops(image, kernel, flip=True, padding=0):
    h, w = image.shape
    kh, kw = kernel.shape
    if flip:
        kernel = torch.flip(kernel, [0, 1])
    out = []
    for i in range(h - kh + 1):
        row = []
        for j in range(w - kw + 1):
            row.append(float((image[i : i + kh, j : j + kw] * kernel).sum()))
        out.append(row)
    return out


def c2_swapped_loops(image, kernel):
    h, w = image.shape
    kh, kw = kernel.shape
    kernel = kernel.flip(0, 1)
    return [
        [float((image[i : i + kh, j : j + kw] * kernel).sum()) for i in range(h - kh + 1)] for j in range(w - kw + 1)
    ]


def c2_flip_in_place(image, kernel):
    kernel[:] = kernel.flip(0, 1)
    return conv2d_with(image, kernel)


def c2_ragged(image, kernel):
    return [[1.0, 2.0], [3.0]]


def c2_forever(image, kernel):
    result = conv2d_with(image, kernel.flip(0, 1))
    while result.shape != image.shape:
        pass
    return result


def c2_numpy(image, kernel):
    windows = np.lib.stride_tricks.sliding_window_view(image.numpy(), kernel.shape)
    return np.einsum("ijkl,kl->ij", windows, np.flip(kernel.numpy()))


def c2_misspelt(image, kernel):
    return conv2d_with(imag, kernel.flip(0, 1))  # noqa: F821


CONVOLVE2D = {
    "wrong": [
        (lambda image, kernel: conv2d_with(image, kernel), "you did not flip the kernel: that is correlation"),
        (lambda image, kernel: conv2d_with(image, kernel.flip(0)), "up-down only"),
        (lambda image, kernel: conv2d_with(image, kernel.flip(1)), "left-right only"),
        (lambda image, kernel: conv2d_with(image, kernel.T), "you transposed the kernel"),
        (lambda image, kernel: conv2d_with(image, torch.rot90(kernel)), "a quarter turn"),
        (
            lambda image, kernel: conv2d_with(
                image, kernel.flip(0, 1), padding=(kernel.shape[0] - 1, kernel.shape[1] - 1)
            ),
            "'full' convolution",
        ),
        (lambda image, kernel: conv2d_with(image, kernel.flip(0, 1), padding="same"), "kept the image's size"),
        (lambda image, kernel: conv2d_with(image.flip(0, 1), kernel), "flipped the image instead of the kernel"),
        (lambda image, kernel: conv2d_with(image, kernel).flip(0, 1), "flipped the output instead of the kernel"),
        (c2_swapped_loops, "your output is transposed"),
        (lambda image, kernel: conv2d_with(image, kernel.flip(0, 1)) / kernel.numel(), "you averaged each window"),
        (lambda image, kernel: c2_loops(image, kernel, flip=False), "you did not flip the kernel"),
    ],
    "strange": [
        (lambda image, kernel: print(conv2d_with(image, kernel.flip(0, 1))), "did you forget `return`?"),
        (lambda image, kernel: F.conv2d(image[None, None], kernel.flip(0, 1)[None, None]), "extra axis"),
        (c2_misspelt, ("raised NameError: name 'imag' is not defined", "check its spelling")),
        (c2_forever, "did not return within"),
        (c2_ragged, "rows have different shapes"),
        (lambda image, kernel: "done", "returned the string 'done'"),
    ],
    "correct": [
        lambda image, kernel: conv2d_with(image, kernel.flip(0, 1)),
        c2_loops,
        c2_flip_in_place,
        lambda image, kernel: conv2d_with(image, torch.rot90(kernel, 2)),
        c2_numpy,
    ],
}


# --- lesson 01: the flipped kernel (a value) -------------------------------------------------------------------

FLIPPED_KERNEL = {
    "wrong": [
        ([[1, 2], [3, 4]], "that is W itself"),
        ([[1, 3], [2, 4]], "that is the transpose"),
        ([[3, 4], [1, 2]], "up-down only"),
        ([[2, 1], [4, 3]], "left-right only"),
        ([[2, 4], [1, 3]], "a quarter turn"),
        ([[3, 1], [4, 2]], "a quarter turn"),
        ([[4, 2], [3, 1]], "other diagonal"),
        ([[-1, -2], [-3, -4]], "does not change their signs"),
        ([[-4, -3], [-2, -1]], "does not change their signs"),
        ([4, 3, 2, 1], "but flat"),
    ],
    "strange": [
        (None, "your answer is None"),
        ("[[4, 3], [2, 1]]", "the string"),
        (..., "not written yet"),
        (lambda: [[4, 3], [2, 1]], "not a function"),
        ({4, 3, 2, 1}, "has no order"),
        ([[4, 3], [2]], "rows have different shapes"),
    ],
    "correct": [
        torch.tensor([[4, 3], [2, 1]]),
        np.array([[4.0, 3.0], [2.0, 1.0]]),
        ((4, 3), (2, 1)),
        torch.tensor([[1.0, 2.0], [3.0, 4.0]]).flip(0, 1),
        torch.rot90(torch.tensor([[1, 2], [3, 4]]), 2),
    ],
}


# --- lesson 02: output_size ------------------------------------------------------------------------------------


def o_forever(size, kernel_size, stride, padding, dilation):
    count, start = 0, 0
    while start + dilation * (kernel_size - 1) < size + 2 * padding:
        count += 1
    return count


def o_counts_windows(size, kernel_size, stride, padding, dilation):
    count, start = 0, 0
    while start + dilation * (kernel_size - 1) < size + 2 * padding:
        count += 1
        start += stride
    return count


def o_torch(size, kernel_size, stride, padding, dilation):
    x, w = torch.zeros(1, 1, size), torch.zeros(1, 1, kernel_size)
    return F.conv1d(x, w, stride=stride, padding=padding, dilation=dilation).shape[-1]


def o_divides_by_zero(size, kernel_size, stride, padding, dilation):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // (stride - 1) + 1


OUTPUT_SIZE = {
    "wrong": [
        (lambda i, k, s, p, d: (i + 2 * p - d * (k - 1) - 1) // s, "you left out the + 1"),
        (lambda i, k, s, p, d: (i + 2 * p - k) // s + 1, "you ignored dilation"),
        (lambda i, k, s, p, d: (i + 2 * p - d * k) // s + 1, "not d*k"),
        (lambda i, k, s, p, d: (i + 2 * p - d * (k - 1)) // s + 1, "subtract the whole span"),
        (lambda i, k, s, p, d: (i + p - d * (k - 1) - 1) // s + 1, "you padded one side only"),
        (lambda i, k, s, p, d: (i - d * (k - 1) - 1) // s + 1, "you ignored padding"),
        (lambda i, k, s, p, d: i + 2 * p - d * (k - 1), "you ignored the stride"),
        (lambda i, k, s, p, d: (i + 2 * p - d * (k - 1)) // s, "the first window is always there"),
        (lambda i, k, s, p, d: math.ceil((i + 2 * p - d * (k - 1) - 1) / s) + 1, "you rounded up"),
        (lambda i, k, s, p, d: round((i + 2 * p - d * (k - 1) - 1) / s) + 1, "round() goes to the nearest"),
        (lambda i, k, s, p, d: (i + 2 * p - d * (k - 1) - 1) / s + 1, ("the float", "use `//`")),
    ],
    "strange": [
        (lambda i, k, s, p, d: print((i + 2 * p - d * (k - 1) - 1) // s + 1), "did you forget `return`?"),
        (lambda i, k, s, p, d: f"{(i + 2 * p - d * (k - 1) - 1) // s + 1}", "not text"),
        (lambda i, k, s, p, d: ((i + 2 * p - d * (k - 1) - 1) // s + 1,) * 2, "not a tuple"),
        (lambda i, k, s, p, d: torch.tensor((i + 2 * p - d * (k - 1) - 1) // s + 1), ".item()"),
        (o_divides_by_zero, ("raised ZeroDivisionError", "(line ", "// (stride - 1)")),
        (o_forever, "did not return within"),
        (lambda i, k, s, p: (i + 2 * p - k) // s + 1, "give it these parameters"),
        (o_counts_windows(7, 3, 1, 0, 1), "pass the function itself"),
    ],
    "correct": [
        lambda i, k, s, p, d: math.floor((i + 2 * p - d * (k - 1) - 1) / s) + 1,
        lambda i, k, s, p, d: np.int64(i + 2 * p - d * (k - 1) - 1) // s + 1,
        lambda i, k, s, p, d: int((i + 2 * p - d * (k - 1) - 1) / s) + 1,
        o_counts_windows,
        o_torch,
    ],
}


# --- lesson 02: same_padding -----------------------------------------------------------------------------------


def sp_forever(kernel_size, dilation):
    left, right = 0, 0
    while left + right < dilation * (kernel_size - 1):
        left += 0
    return left, right


def sp_divmod(kernel_size, dilation):
    half, rest = divmod(dilation * (kernel_size - 1), 2)
    return [half, half + rest]


def sp_divides_by_zero(kernel_size, dilation):
    half = kernel_size // (kernel_size - 1)
    return half, half


SAME_PADDING = {
    "wrong": [
        (lambda k, d: (d * (k - 1) - d * (k - 1) // 2, d * (k - 1) // 2), "smaller half on the left"),
        (lambda k, d: ((k - 1) // 2, (k - 1) - (k - 1) // 2), "the total must be d*(k-1), not k - 1"),
        (lambda k, d: (d * (k - 1) // 2, d * (k - 1) // 2), "total // 2 on both sides loses one"),
        (lambda k, d: (math.ceil(d * (k - 1) / 2), math.ceil(d * (k - 1) / 2)), "rounding up on both sides adds one"),
        (lambda k, d: (d * (k // 2), d * (k // 2)), "right for odd kernels only"),
        (lambda k, d: (d * (k - 1), d * (k - 1)), "not all of it"),
        (
            lambda k, d: ((d * (k - 1) + 1) // 2, d * (k - 1) + 1 - (d * (k - 1) + 1) // 2),
            "one less than the kernel's span",
        ),
        (lambda k, d: ((d * k - 1) // 2, d * k - 1 - (d * k - 1) // 2), "not d*k - 1"),
        (lambda k, d: (d * (k - 1) / 2, d * (k - 1) / 2), "total / 2 gives floats"),
        (lambda k, d: d * (k - 1), "that is the total"),
        (lambda k, d: d * (k - 1) // 2, "that is one side"),
    ],
    "strange": [
        (lambda k, d: None, "did you forget `return`?"),
        (lambda k, d: f"{d * (k - 1) // 2}, {d * (k - 1) - d * (k - 1) // 2}", "not text"),
        (lambda k, d: torch.tensor([d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2]), "not a tensor"),
        (lambda k, d: (0, 0, d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2), "has two numbers"),
        (sp_divides_by_zero, ("raised ZeroDivisionError", "a division by zero")),
        (sp_forever, "did not return within"),
    ],
    "correct": [
        sp_divmod,
        lambda k, d: (np.int64(d * (k - 1)) // 2, np.int64(d * (k - 1)) - np.int64(d * (k - 1)) // 2),
        lambda k, d: (d * (k - 1) // 2, (d * (k - 1) + 1) // 2),
        lambda kernel_size, dilation=1: (dilation * (kernel_size - 1) // 2, -(-dilation * (kernel_size - 1) // 2)),
    ],
}


# --- lesson 02: transposed_size --------------------------------------------------------------------------------


def t_torch(size, kernel_size, stride, padding, output_padding):
    x, w = torch.zeros(1, 1, size), torch.zeros(1, 1, kernel_size)
    return F.conv_transpose1d(x, w, stride=stride, padding=padding, output_padding=output_padding).shape[-1]


def t_with_dilation(size, kernel_size, stride, padding, output_padding, dilation=1):
    return (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


def t_forever(size, kernel_size, stride, padding, output_padding):
    length = 0
    while length != size * stride:
        length += 0
    return length


def t_checks_itself(size, kernel_size, stride, padding, output_padding):
    if padding > 0:
        raise ValueError("padding is not supported")
    return stride * (size - 1) + output_padding + kernel_size


TRANSPOSED_SIZE = {
    "wrong": [
        (lambda i, k, s, p, a: s * (i - 1) + k - 2 * p, "you forgot output_padding"),
        (lambda i, k, s, p, a: (i + 2 * p - k) // s + 1, "that is the forward convolution's formula"),
        (lambda i, k, s, p, a: s * (i - 1) + k + 2 * p + a, "padding crops the output: subtract 2p"),
        (lambda i, k, s, p, a: s * (i - 1) + k - p + a, "subtract 2p, not p"),
        (lambda i, k, s, p, a: s * i + k - 2 * p + a, "s(i - 1), not s*i"),
        (lambda i, k, s, p, a: s * (i - 1) + (k - 1) - 2 * p + a, "you left out the + 1"),
        (lambda i, k, s, p, a: s * (i - 1) + k - 2 * p + 2 * a, "one end only"),
        (lambda i, k, s, p, a: s * (i - 1) + k - 2 * p - a, "add it, do not subtract it"),
        (lambda i, k, s, p, a: (i - 1) + k - 2 * p + a, "you ignored the stride"),
        (lambda i, k, s, p, a, d: s * (i - 1) + k - 2 * p + a, "you ignored dilation"),
        (lambda i, k, s, p, a, d: s * (i - 1) + d * k - 2 * p + a, "not d*k"),
    ],
    "strange": [
        (lambda i, k, s, p, a: None, "did you forget `return`?"),
        (lambda i, k, s, p, a: torch.tensor(s * (i - 1) + a + k - 2 * p), ".item()"),
        (lambda i, k, s, p, a: [s * (i - 1) + a + k - 2 * p], "not a list"),
        (t_checks_itself, "raised ValueError: padding is not supported"),
        (t_forever, "did not return within"),
        (lambda i, k, s, p: s * (i - 1) + k - 2 * p, "give it these parameters"),
    ],
    "correct": [
        t_torch,
        t_with_dilation,
        lambda i, k, s, p, a: np.int32(s) * (i - 1) + a + k - 2 * p,
        lambda size, kernel_size, stride, padding, output_padding: (
            (size - 1) * stride + (kernel_size - 1) + 1 + output_padding - padding - padding
        ),
    ],
}


# --- lessons 03 and 04: parameters -----------------------------------------------------------------------------


def p_module(in_channels, out_channels, kernel_size, bias, groups):
    layer = nn.Conv2d(in_channels, out_channels, kernel_size, bias=bias, groups=groups)
    return sum(p.numel() for p in layer.parameters())


def p_forever(in_channels, out_channels, kernel_size, bias, groups):
    total = 0
    for _ in range(out_channels):
        while total >= 0:
            total += in_channels // groups * kernel_size * kernel_size
    return total


def p_divides_by_zero(in_channels, out_channels, kernel_size, bias, groups):
    return (in_channels // (groups - 1) * kernel_size**2 + bias) * out_channels


PARAMETERS = {
    "wrong": [
        (lambda i, o, k, b, g: i // g * k * k * o, "you forgot the biases"),
        (lambda i, o, k, b, g: (i // g * k * k + 1) * o, "bias=False means the layer has no biases"),
        (lambda i, o, k, b, g: i // g * k * k * o + (i if b else 0), "one bias per OUTPUT channel"),
        (lambda i, o, k, b, g: i // g * k * k * o + b, "not one for the whole layer"),
        (lambda i, o, k, b, g: (i * k * k + b) * o, "in_channels / groups channels, not all of them"),
        (lambda i, o, k, b, g: i // g * k * k * (o // g) + b * o, "still out_channels filters"),
        (lambda i, o, k, b, g: (i // g * k + b) * o, "k*k weights per input channel, not k"),
        (lambda i, o, k, b, g: i // g * k * k + b, "multiply by out_channels"),
        (lambda i, o, k, b, g: (i // g + b) * k * k * o, "not one per kernel position"),
        (lambda i, o, k, b, g: (i / g * k * k + b) * o, ("the float", "use `//`")),
    ],
    "strange": [
        (lambda i, o, k, b, g: None, "did you forget `return`?"),
        (lambda i, o, k, b, g: f"{(i // g * k * k + b) * o:,}", "not text"),
        (lambda i, o, k, b, g: torch.tensor((i // g * k * k + b) * o), ".item()"),
        (lambda i, o, k, b, g: [i // g * k * k * o, b * o], "not a list"),
        (p_divides_by_zero, ("raised ZeroDivisionError", "a division by zero")),
        (p_forever, "did not return within"),
    ],
    "correct": [
        p_module,
        lambda i, o, k, b, g: np.prod([i // g, k, k, o]) + (o if b else 0),
        lambda i, o, k, b, g: math.prod((i // g, k, k, o)) + b * o,
        lambda in_channels, out_channels, kernel_size, bias, groups: (
            (in_channels // groups * kernel_size**2 + bool(bias)) * out_channels
        ),
    ],
}


# --- lesson 03: flatten_size -----------------------------------------------------------------------------------


def f_right(size, conv_channels, kernel_size, padding, pool, *, sides=2, pooling="floor", blocks=None):
    for _ in conv_channels[:blocks]:
        size = size + sides * padding - kernel_size + 1
        if pool is not None and pooling == "floor":
            size = size // pool
        elif pool is not None and pooling == "ceil":
            size = math.ceil(size / pool)
    return conv_channels[-1] * size * size


def f_pool_once(size, conv_channels, kernel_size, padding, pool):
    for _ in conv_channels:
        size = size + 2 * padding - kernel_size + 1
    if pool is not None:
        size //= pool
    return conv_channels[-1] * size * size


def f_no_shrink(size, conv_channels, kernel_size, padding, pool):
    for _ in conv_channels:
        if pool is not None:
            size //= pool
    return conv_channels[-1] * size * size


def f_float(size, conv_channels, kernel_size, padding, pool):
    for _ in conv_channels:
        size = size + 2 * padding - kernel_size + 1
        if pool is not None:
            size = size / pool
    return conv_channels[-1] * size * size


def f_torch(size, conv_channels, kernel_size, padding, pool):
    layers, channels = [], 1
    for out in conv_channels:
        layers.append(nn.Conv2d(channels, out, kernel_size, padding=padding))
        if pool is not None:
            layers.append(nn.MaxPool2d(pool))
        channels = out
    with torch.no_grad():
        return nn.Sequential(*layers, nn.Flatten())(torch.zeros(1, 1, size, size)).shape[1]


def f_shape(size, conv_channels, kernel_size, padding, pool):
    for _ in conv_channels:
        size = (size + 2 * padding - kernel_size) // 1 + 1
        size = size if pool is None else (size - pool) // pool + 1
    return math.prod((conv_channels[-1], size, size))


def f_forever(size, conv_channels, kernel_size, padding, pool):
    block = 0
    while block < len(conv_channels):
        size = size + 2 * padding - kernel_size + 1
    return conv_channels[-1] * size * size


def f_pools_none(size, conv_channels, kernel_size, padding, pool):
    for _ in conv_channels:
        size = (size + 2 * padding - kernel_size + 1) // pool
    return conv_channels[-1] * size * size


FLATTEN_SIZE = {
    "wrong": [
        (lambda s, ch, k, p, pool: f_right(s, ch, k, p, pool) // ch[-1], "multiply by the channels"),
        (lambda s, ch, k, p, pool: f_right(s, ch, k, p, pool) // ch[-1] * ch[0], "LAST block"),
        (lambda s, ch, k, p, pool: f_right(s, ch, k, p, pool) // ch[-1] * sum(ch), "not all blocks' together"),
        (lambda s, ch, k, p, pool: math.isqrt(f_right(s, ch, k, p, pool) // ch[-1]) * ch[-1], "the map is square"),
        (lambda s, ch, k, p, pool: f_right(s, ch, k, p, None), "you left out the pooling"),
        (f_pool_once, "every block ends with its own pool"),
        (lambda s, ch, k, p, pool: f_right(s, ch, k, p, pool, blocks=1), "one block (convolution, then pool) per"),
        (lambda s, ch, k, p, pool: f_right(s, ch, k, p, pool, pooling="ceil"), "rounds down"),
        (lambda s, ch, k, p, pool: f_right(s, ch, k, 0, pool), "padding adds zeros around the map"),
        (lambda s, ch, k, p, pool: f_right(s, ch, k, p, pool, sides=1), "padding adds p zeros on EACH side"),
        (f_no_shrink, "shrinks the map"),
        (f_float, ("the float", "use `//`")),
    ],
    "strange": [
        (lambda s, ch, k, p, pool: None, "did you forget `return`?"),
        (lambda s, ch, k, p, pool: "lots", ("the string 'lots'", "54 = 6 x 3 x 3 (8 -> conv 6 -> pool 3)")),
        (lambda s, ch, k, p, pool: torch.tensor(f_right(s, ch, k, p, pool)), ".item()"),
        (lambda s, ch, k, p, pool: (ch[-1], f_right(s, ch, k, p, pool) // ch[-1]), "not a tuple"),
        (f_pools_none, ("raised TypeError: unsupported operand", "pool=None")),
        (f_forever, "did not return within"),
    ],
    "correct": [f_right, f_torch, f_shape, lambda s, ch, k, p, pool: np.int64(f_right(s, ch, k, p, pool))],
}


# --- lesson 03: cross_entropy ----------------------------------------------------------------------------------


def rows(labels):
    return torch.arange(len(labels))


def ce_stable(logits, labels):
    top = logits.max(dim=1, keepdim=True).values
    log_sum = top[:, 0] + (logits - top).exp().sum(dim=1).log()
    return (log_sum - logits[rows(labels), labels]).mean()


def ce_batch_max(logits, labels):
    top = logits.max()
    log_sum = top + (logits - top).exp().sum(dim=1).log()
    return (log_sum - logits[rows(labels), labels]).mean()


def ce_naive(logits, labels):
    probs = logits.exp() / logits.exp().sum(dim=1, keepdim=True)
    return -probs[rows(labels), labels].log().mean()


def ce_max_not_added(logits, labels):
    top = logits.max(dim=1, keepdim=True).values
    log_sum = (logits - top).exp().sum(dim=1).log()
    return (log_sum - logits[rows(labels), labels]).mean()


def ce_dim0(logits, labels):
    top = logits.max(dim=0, keepdim=True).values
    log_probs = logits - top - (logits - top).exp().sum(dim=0, keepdim=True).log()
    return -log_probs[rows(labels), labels].mean()


def ce_columns(logits, labels):
    top = logits.max(dim=1, keepdim=True).values
    log_sum = top[:, 0] + (logits - top).exp().sum(dim=1).log()
    return (log_sum[:, None] - logits[:, labels]).mean()


def ce_probability(logits, labels):
    shifted = (logits - logits.max(dim=1, keepdim=True).values).exp()
    probs = shifted / shifted.sum(dim=1, keepdim=True)
    return -probs[rows(labels), labels].mean()


def ce_all_classes(logits, labels):
    top = logits.max(dim=1, keepdim=True).values
    log_probs = logits - top - (logits - top).exp().sum(dim=1, keepdim=True).log()
    return -log_probs.mean()


def ce_loops(logits, labels):
    total = 0.0
    for row, label in zip(logits.tolist(), labels.tolist(), strict=True):
        top = max(row)
        total += top + math.log(sum(math.exp(z - top) for z in row)) - row[label]
    return total / len(labels)


def ce_own_copy(logits, labels):
    z = logits.clone()
    z -= z.max(dim=1, keepdim=True).values
    z -= z.exp().sum(dim=1, keepdim=True).log()
    return -z[rows(labels), labels].mean()


def ce_in_place(logits, labels):
    logits -= logits.max(dim=1, keepdim=True).values
    logits -= logits.exp().sum(dim=1, keepdim=True).log()
    return -logits[rows(labels), labels].mean()


def ce_numpy(logits, labels):
    z = logits.numpy()
    z = z - z.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels.numpy()].mean()


def ce_forever(logits, labels):
    loss = torch.tensor(0.0)
    while loss >= 0:
        loss = ce_stable(logits, labels)
    return loss


def ce_math_exp(logits, labels):
    return -math.log(math.exp(logits[0, labels[0]]) / sum(math.exp(logits)))


CROSS_ENTROPY = {
    "wrong": [
        (ce_batch_max, "each row needs its own maximum"),
        (ce_naive, "exp overflowed"),
        (ce_max_not_added, "did not add it back"),
        (lambda z, y: ce_stable(z, y) * len(y), "you returned the sum over the batch"),
        (lambda z, y: -ce_stable(z, y), "MINUS the log-probability"),
        (lambda z, y: -z[rows(y), y].mean(), "the logits are not probabilities"),
        (ce_dim0, "over the classes (dim=1), not over the batch (dim=0)"),
        (ce_columns, "logits[:, labels] picks every label's column"),
        (lambda z, y: ce_stable(z, z.argmax(dim=1)), "largest logit instead of its label's"),
        (ce_probability, "not minus the probability itself"),
        (ce_all_classes, "over every class"),
        (lambda z, y: ce_stable(z.float(), y), ("precision", "float32")),
        (lambda z, y: ce_stable(z, y) * len(y) / len(y) + 0.1, "expected 0.41703, got 0.51703"),
        (lambda z, y: ce_stable(z, y) * 0 + (z.logsumexp(1) - z[rows(y), y]), "per-example losses"),
    ],
    "strange": [
        (lambda z, y: None, "did you forget `return`?"),
        (lambda z, y: f"{ce_stable(z, y):.4f}", "not text"),
        (ce_math_exp, "raised ValueError: only one element tensors"),
        (ce_forever, "did not return within"),
        (lambda z, y: z - z.logsumexp(dim=1, keepdim=True), "the answer is one number; yours has 3"),
        (lambda z, y: [float(v) for v in F.cross_entropy(z, y, reduction="none")], "per-example losses"),
    ],
    "correct": [
        ce_stable,
        lambda z, y: F.cross_entropy(z, y).item(),
        ce_loops,
        ce_own_copy,
        ce_in_place,
        ce_numpy,
        lambda z, y: ce_stable(z, y).reshape(1),
    ],
}


# --- lesson 02: receptive_field --------------------------------------------------------------------------------


def r_right(layers, *, start=1, own_stride_first=False, k_times=False):
    field, jump = start, 1
    for kernel_size, stride in layers:
        if own_stride_first:
            jump *= stride
        field += (kernel_size if k_times else kernel_size - 1) * jump
        if not own_stride_first:
            jump *= stride
    return field


def r_backward_forwards(layers):
    field = 1
    for kernel_size, stride in layers:
        field = stride * field + (kernel_size - stride)
    return field


def r_adds_strides(layers):
    field, jump = 1, 1
    for kernel_size, stride in layers:
        field += (kernel_size - 1) * jump
        jump = jump + stride
    return field


def r_running(layers):
    fields, field, jump = [], 1, 1
    for kernel_size, stride in layers:
        field += (kernel_size - 1) * jump
        jump *= stride
        fields.append(field)
    return fields


def r_with_jump(layers):
    field, jump = 1, 1
    for kernel_size, stride in layers:
        field += (kernel_size - 1) * jump
        jump *= stride
    return field, jump


def r_pop(layers):
    field, jump = 1, 1
    while layers:
        kernel_size, stride = layers.pop(0)
        field += (kernel_size - 1) * jump
        jump *= stride
    return field


def r_reverse(layers):
    layers.reverse()
    field = 1
    for kernel_size, stride in layers:
        field = stride * field + (kernel_size - stride)
    return field


def r_numpy(layers):
    kernels, strides = np.array(layers).T
    jumps = np.concatenate([[1], np.cumprod(strides)[:-1]])
    return 1 + ((kernels - 1) * jumps).sum()


def r_forever(layers):
    field, index = 1, 0
    while index < len(layers):
        field += layers[index][0] - 1
    return field


def r_dilations(layers):
    field, jump = 1, 1
    for kernel_size, stride, dilation in layers:
        field += dilation * (kernel_size - 1) * jump
        jump *= stride
    return field


RECEPTIVE_FIELD = {
    "wrong": [
        (lambda layers: 1 + sum(k - 1 for k, s in layers), "strides matter"),
        (lambda layers: math.prod(k for k, s in layers), "receptive fields do not multiply"),
        (lambda layers: r_right(layers, own_stride_first=True), "a layer's own stride"),
        (lambda layers: r_right(layers[::-1]), "in the other direction"),
        (r_backward_forwards, "over reversed(layers)"),
        (r_adds_strides, "jump *= s, not jump += s"),
        (lambda layers: r_right(layers, start=0), "start from 1"),
        (lambda layers: r_right(layers, k_times=True), "not k times"),
        (lambda layers: 1 + sum(k - 1 for k, s in layers) * math.prod(s for k, s in layers), "BEFORE it"),
        (r_running, "return the last one"),
        (r_with_jump, "not (field, jump)"),
    ],
    "strange": [
        (lambda layers: None, "did you forget `return`?"),
        (lambda layers: str(r_right(layers)), "not text"),
        (lambda layers: torch.tensor(r_right(layers)), ".item()"),
        (r_dilations, "raised ValueError: not enough values to unpack"),
        (r_forever, "did not return within"),
    ],
    "correct": [r_right, r_pop, r_reverse, r_numpy],
}


# --- lesson 04: a bottleneck's parameters, what a separable convolution saves, a dense block's channels ----------


def b_right(in_channels, width):
    out = 4 * width
    total = in_channels * width + 9 * width * width + width * out + 2 * (width + width + out)
    return total + (in_channels * out + 2 * out if in_channels != out else 0)


def b_by_layers(in_channels, width):
    layers = [(in_channels, width, 1), (width, width, 3), (width, 4 * width, 1)]
    if in_channels != 4 * width:
        layers.append((in_channels, 4 * width, 1))
    total = 0
    while layers:  # consumes its own list
        c_in, c_out, k = layers.pop()
        total += c_in * c_out * k * k + 2 * c_out
    return total


def b_torch(in_channels, width):
    return sum(p.numel() for p in Bottleneck(in_channels, width).parameters())


def b_forever(in_channels, width):
    while True:
        width += 0


BOTTLENECK = {
    "wrong": [
        (lambda i, w: b_right(i, w) - 2 * 6 * w - (8 * w if i != 4 * w else 0), "left out the batch norms"),
        (lambda i, w: b_right(i, w) - (4 * i * w + 8 * w if i != 4 * w else 0), "needs a projection"),
        (lambda i, w: b_right(i, w) + (4 * i * w + 8 * w if i == 4 * w else 0), "the identity"),
        (lambda i, w: i * w + 9 * i * w + 4 * w * w + 12 * w + (4 * i * w + 8 * w if i != 4 * w else 0), "narrow"),
        (lambda i, w: b_right(i, w) + 6 * w + (4 * w if i != 4 * w else 0), "no bias"),
        (lambda i, w: b_right(i, w) + 12 * w + (8 * w if i != 4 * w else 0), "buffers are not parameters"),
        (lambda i, w: i * w + 9 * w * w + 4 * w * w + 12 * w + (i * w + 2 * w if i != 4 * w else 0), "projection goes"),
        (lambda i, w: i * w + w * w + 4 * w * w + 12 * w + (4 * i * w + 8 * w if i != 4 * w else 0), "9 weights"),
    ],
    "strange": [
        (lambda i, w: None, "did you forget `return`?"),
        (lambda i, w: [i * w, 9 * w * w, 4 * w * w], "one int is expected"),
        (lambda i, w: float(b_right(i, w)) / 1.0 + 0.5, "float"),
        (b_forever, "did not return within"),
    ],
    "correct": [b_right, b_by_layers, b_torch, lambda i, w: np.int64(b_right(i, w))],
}


def s_by_costs(in_channels, out_channels, kernel_size):
    depthwise = kernel_size**2 * in_channels
    pointwise = in_channels * out_channels
    return (depthwise + pointwise) / (kernel_size**2 * in_channels * out_channels)


def s_modules(in_channels, out_channels, kernel_size):
    x = torch.zeros(1, in_channels, 5, 5)
    depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, padding="same", groups=in_channels, bias=False)
    pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)
    full = nn.Conv2d(in_channels, out_channels, kernel_size, padding="same", bias=False)
    cost = lambda m, y: m.weight[0].numel() * y.numel()  # noqa: E731  (multiply-adds: weights per output x outputs)
    y = depthwise(x)
    return (cost(depthwise, y) + cost(pointwise, pointwise(y))) / cost(full, full(x))


SEPARABLE = {
    "wrong": [
        (lambda i, o, k: 1 / (1 / o + 1 / k**2), "full convolution over the separable one"),
        (lambda i, o, k: 1 / k**2, "left out the depthwise part"),
        (lambda i, o, k: 1 / o, "left out the 1x1"),
        (lambda i, o, k: 1 / i + 1 / k**2, "not 1/in_channels"),
        (lambda i, o, k: 1 / o + 1 / k, "not k"),
        (lambda i, o, k: 1 / (o * k * k), "the costs add"),
        (lambda i, o, k: (i * k * k + i + i * o + o) / (i * k * k * o + o), "biases"),
        (lambda i, o, k: 1 - (1 / o + 1 / k**2), "not that fraction less"),
    ],
    "strange": [
        (lambda i, o, k: None, "did you forget `return`?"),
        (lambda i, o, k: "1/o + 1/k**2", "not text"),
        (lambda i, o, k: torch.tensor([1 / o, 1 / k**2]), "one number"),
        (lambda i, o, k: 1 / (o - o), "ZeroDivisionError"),
    ],
    "correct": [
        lambda i, o, k: 1 / o + 1 / k**2,
        s_by_costs,
        s_modules,
        lambda i, o, k: torch.tensor(1 / o + 1 / k**2, dtype=torch.float64),
        lambda i, o, k: Fraction(1, o) + Fraction(1, k * k),  # exact, as "divide and simplify" invites
    ],
}


def d_loop(in_channels, growth_rate, num_layers):
    channels = in_channels
    for _ in range(num_layers):
        channels += growth_rate
    return channels


def d_torch(in_channels, growth_rate, num_layers):
    x = torch.zeros(1, in_channels, 4, 4)
    for _ in range(num_layers):
        x = torch.cat([x, torch.zeros(1, growth_rate, 4, 4)], dim=1)
    return x.shape[1]


DENSE = {
    "wrong": [
        (lambda c, k, n: n * k, "keeps its input"),
        (lambda c, k, n: c + k, "EACH of the num_layers"),
        (lambda c, k, n: c + (n - 1) * k, "count all num_layers"),
        (lambda c, k, n: c + 4 * k * n, "4 * growth_rate stay inside"),
        (lambda c, k, n: c * k * n, "does not multiply"),
        (lambda c, k, n: c * (n + 1) + k * n * (n + 1) // 2, "not copied again"),
        (lambda c, k, n: (c + k) * n, "not (in_channels + growth_rate) * num_layers"),
        (lambda c, k, n: c + n * k + 1, "off by +1"),
    ],
    "strange": [
        (lambda c, k, n: None, "did you forget `return`?"),
        (lambda c, k, n: (c, n * k), "one int is expected"),
        (lambda c, k, n: c + n * k / 1, "float"),
        (lambda c, k, n: [][0], "IndexError"),
    ],
    "correct": [lambda c, k, n: c + n * k, d_loop, d_torch, lambda c, k, n: np.int32(c + n * k)],
}


# --- the tests -------------------------------------------------------------------------------------------------

EXERCISES = {
    "correlate1d": (exercises.check_correlate1d, CORRELATE1D),
    "convolve2d": (exercises.check_convolve2d, CONVOLVE2D),
    "flipped_kernel": (exercises.check_flipped_kernel, FLIPPED_KERNEL),
    "output_size": (exercises.check_output_size, OUTPUT_SIZE),
    "same_padding": (exercises.check_same_padding, SAME_PADDING),
    "transposed_size": (exercises.check_transposed_output_size, TRANSPOSED_SIZE),
    "parameters": (exercises.check_conv_parameter_count, PARAMETERS),
    "flatten_size": (exercises.check_flatten_size, FLATTEN_SIZE),
    "cross_entropy": (exercises.check_cross_entropy, CROSS_ENTROPY),
    "receptive_field": (exercises.check_receptive_field, RECEPTIVE_FIELD),
    "bottleneck_parameters": (exercises.check_bottleneck_parameters, BOTTLENECK),
    "separable_ratio": (exercises.check_separable_ratio, SEPARABLE),
    "dense_block_channels": (exercises.check_dense_block_channels, DENSE),
}
VALUES = ("flipped_kernel",)


def check(exercise: str, answer, time_limit: float = 10.0) -> None:
    checker = EXERCISES[exercise][0]
    if exercise in VALUES:
        checker(answer)
    else:
        checker(answer, time_limit=time_limit)


def answers(kind: str) -> list:
    return [
        pytest.param(exercise, *(entry if kind != "correct" else (entry,)), id=f"{exercise}-{index}")
        for exercise, (_, table) in EXERCISES.items()
        for index, entry in enumerate(table[kind])
    ]


@pytest.mark.parametrize(("exercise", "answer", "words"), answers("wrong"))
def test_a_wrong_answer_is_rejected_with_its_mistake_named(exercise, answer, words):
    with pytest.raises(ExerciseFailed) as caught:
        check(exercise, answer)
    for word in (words,) if isinstance(words, str) else words:
        assert word in str(caught.value)


@pytest.mark.parametrize(("exercise", "answer", "words"), answers("strange"))
def test_a_strange_answer_gets_a_message(exercise, answer, words):
    with pytest.raises(ExerciseFailed) as caught:
        check(exercise, answer, time_limit=SHORT)
    for word in (words,) if isinstance(words, str) else words:
        assert word in str(caught.value)


@pytest.mark.parametrize(("exercise", "answer"), answers("correct"))
def test_a_correct_answer_is_accepted(exercise, answer, capsys):
    check(exercise, answer)
    assert capsys.readouterr().out.startswith("\u2713")


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_exercise_has_its_class_of_answers(exercise):
    table = EXERCISES[exercise][1]
    assert len(table["wrong"]) >= 8 and len(table["strange"]) >= 3 and len(table["correct"]) >= 3
    named = [words if isinstance(words, str) else words[0] for _, words in table["wrong"]]
    assert len(set(named)) >= 8, "at least eight different mistakes, each named"
