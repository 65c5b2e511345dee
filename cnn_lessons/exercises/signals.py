"""Checkers for the exercises on sliding a kernel over a signal or an image (lesson 01)."""

from __future__ import annotations

import random

import torch

from cnn_lessons import ops
from cnn_lessons.exercises.answers import Values
from cnn_lessons.exercises.core import Exercise, Mistake, check_function, check_value

__all__ = ["check_correlate1d", "check_convolve2d", "check_flipped_kernel", "signal_cases", "image_cases"]


def signal_cases(seed: int = 0, count: int = 40) -> list[dict]:
    """Signals and kernels of small integers; the kernel never longer than the signal."""
    rng = random.Random(seed)
    cases = [
        {"signal": torch.tensor([0.0, 1, 3, 2, 0, 0, 4, 1]), "kernel": torch.tensor([1.0, 2, -1])},
        {"signal": torch.tensor([1.0, 2, 3]), "kernel": torch.tensor([5.0, -1, 2])},  # as long as the signal
    ]
    for _ in range(count - 2):
        n, k = rng.randint(1, 12), rng.randint(1, 5)
        if k > n:
            n, k = k, n
        cases.append(
            {
                "signal": torch.tensor([float(rng.randint(-5, 5)) for _ in range(n)]),
                "kernel": torch.tensor([float(rng.randint(-3, 3)) for _ in range(k)]),
            }
        )
    return cases


def _windows(signal: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """The (n - k + 1, k) windows of a signal, one row per position."""
    return signal.unfold(0, len(kernel), 1)


CORRELATE1D = Exercise(
    name="correlate1d",
    cases=signal_cases(),
    reference=lambda signal, kernel: ops.correlate1d(signal, kernel),
    answer=Values(),
    hint="out[i] adds signal[i + j] * kernel[j] for j in range(len(kernel)), for i in range(len(signal) - "
    "len(kernel) + 1)",
    mistakes=(
        Mistake(
            "you flipped the kernel: that is convolution; correlation uses kernel[j] as it is",
            gives=lambda signal, kernel: ops.convolve1d(signal, kernel),
        ),
        Mistake(
            "your loop stops one position early: the kernel fits at n - k + 1 positions, so loop i over "
            "range(len(signal) - len(kernel) + 1)",
            gives=lambda signal, kernel: ops.correlate1d(signal, kernel)[:-1],
        ),
        Mistake(
            "you padded the signal with zeros ('full' correlation, n + k - 1 outputs): this exercise asks for the "
            "positions where the whole kernel lies on the signal, n - k + 1 of them",
            gives=lambda signal, kernel: ops.correlate1d(signal, kernel, padding="full"),
        ),
        Mistake(
            "you kept the signal's length (zero padding, 'same'): without padding the output has n - k + 1 values",
            gives=lambda signal, kernel: ops.correlate1d(signal, kernel, padding="same"),
        ),
        Mistake(
            "you multiplied signal[i] by every weight: the window moves with j, so use signal[i + j] * kernel[j]",
            gives=lambda signal, kernel: signal[: len(signal) - len(kernel) + 1] * kernel.sum(),
        ),
        Mistake(
            "every output is the first window's: index signal[i + j], not signal[j]",
            gives=lambda signal, kernel: (signal[: len(kernel)] * kernel).sum().repeat(len(signal) - len(kernel) + 1),
        ),
        Mistake(
            "you added up each window without the weights: multiply signal[i + j] by kernel[j]",
            gives=lambda signal, kernel: _windows(signal, kernel).sum(1),
        ),
        Mistake(
            "you averaged the products (divided by the kernel's length): correlation adds them",
            gives=lambda signal, kernel: ops.correlate1d(signal, kernel) / len(kernel),
        ),
        Mistake(
            "you kept each window's products: add them up, out[i] is one number, the sum over j",
            gives=lambda signal, kernel: _windows(signal, kernel) * kernel,
        ),
        Mistake(
            "your outputs are in reverse order: out[0] is the window at the start of the signal",
            gives=lambda signal, kernel: ops.correlate1d(signal, kernel).flip(0),
        ),
        Mistake(
            "you added all the outputs up into one number: return each position's sum, in a list",
            raw=lambda case, value, expected: abs(float(value) - float(expected.sum())) < 1e-6,
            when=lambda case, got, expected: got.ndim == 0 and abs(float(got) - float(expected.sum())) < 1e-6,
        ),
    ),
)


def check_correlate1d(student_correlate1d, *, time_limit: float | None = None) -> None:
    """Exercise: 1-D cross-correlation with loops, 'valid' positions, stride 1 (``out[i] = sum_j x[i+j] w[j]``)."""
    check_function(CORRELATE1D, student_correlate1d, "check_correlate1d", time_limit)


def image_cases() -> list[dict]:
    """A 4x4 ramp with [[1, 2], [3, 4]], then 29 small random images and kernels (kernel never larger)."""
    rng = torch.Generator().manual_seed(1)
    cases = [{"image": torch.arange(16.0).view(4, 4), "kernel": torch.tensor([[1.0, 2], [3, 4]])}]
    for _ in range(29):
        h, w = torch.randint(1, 8, (2,), generator=rng).tolist()
        kh, kw = torch.randint(1, 4, (2,), generator=rng).tolist()
        kh, kw = min(kh, h), min(kw, w)
        cases.append(
            {
                "image": torch.randint(-4, 5, (h, w), generator=rng).double(),
                "kernel": torch.randint(-3, 4, (kh, kw), generator=rng).double(),
            }
        )
    return cases


_TURNED = (
    "you turned the kernel a quarter turn (rot90); convolution turns it half way round: kernel.flip(0, 1), "
    "or rot90 twice"
)

CONVOLVE2D = Exercise(
    name="convolve2d",
    cases=image_cases(),
    reference=lambda image, kernel: ops.convolve2d(image, kernel),
    answer=Values(),
    hint="flip the kernel with kernel.flip(0, 1), then add window * kernel over every window",
    mistakes=(
        Mistake(
            "you did not flip the kernel: that is correlation",
            gives=lambda image, kernel: ops.correlate2d(image, kernel),
        ),
        Mistake(
            "you flipped the kernel up-down only; convolution flips both axes",
            gives=lambda image, kernel: ops.correlate2d(image, kernel.flip(0)),
        ),
        Mistake(
            "you flipped the kernel left-right only; convolution flips both axes",
            gives=lambda image, kernel: ops.correlate2d(image, kernel.flip(1)),
        ),
        Mistake(
            "you transposed the kernel; flipping is a half turn (kernel.flip(0, 1))",
            gives=lambda image, kernel: ops.correlate2d(image, kernel.T),
        ),
        Mistake(_TURNED, gives=lambda image, kernel: ops.correlate2d(image, torch.rot90(kernel))),
        Mistake(_TURNED, gives=lambda image, kernel: ops.correlate2d(image, torch.rot90(kernel, -1))),
        Mistake(
            "you flipped the image instead of the kernel",
            gives=lambda image, kernel: ops.correlate2d(image.flip(0, 1), kernel),
        ),
        Mistake(
            "you flipped the output instead of the kernel: flip the kernel, then slide it",
            gives=lambda image, kernel: ops.correlate2d(image, kernel).flip(0, 1),
        ),
        Mistake(
            "you padded the image ('full' convolution): without padding the output is (h - kh + 1, w - kw + 1)",
            gives=lambda image, kernel: ops.convolve2d(image, kernel, padding="full"),
        ),
        Mistake(
            "you kept the image's size (padding 'same'): without padding the output is (h - kh + 1, w - kw + 1)",
            gives=lambda image, kernel: ops.convolve2d(image, kernel, padding="same"),
        ),
        Mistake(
            "your output is transposed: out[i][j] belongs to row i (down the image) and column j (across)",
            gives=lambda image, kernel: ops.convolve2d(image, kernel).T,
        ),
        Mistake(
            "you averaged each window (divided by the kernel's size): convolution adds the products",
            gives=lambda image, kernel: ops.convolve2d(image, kernel) / kernel.numel(),
        ),
    ),
)


def check_convolve2d(student_convolve2d, *, time_limit: float | None = None) -> None:
    """Exercise: true 2-D convolution ('valid', stride 1): flip the kernel along both axes, then correlate."""
    check_function(CONVOLVE2D, student_convolve2d, "check_convolve2d", time_limit)


_W = torch.tensor([[1.0, 2], [3, 4]])

FLIPPED_KERNEL = Exercise(
    name="answer",
    cases=[{}],
    reference=lambda: _W.flip(0, 1),
    answer=Values(rtol=0, atol=0),
    hint="convolution reads the kernel backwards along both axes, so its top-left weight meets the bottom-right "
    "of each window. Check by comparing F.conv2d with your kernel and ops.convolve2d with [[1, 2], [3, 4]] on "
    "any image",
    mistakes=(
        Mistake(
            "that is W itself: F.conv2d with W computes the correlation; convolution needs W turned half way round",
            gives=lambda: _W,
        ),
        Mistake("that is the transpose; convolution turns the kernel half way round", gives=lambda: _W.T),
        Mistake("you flipped it up-down only; convolution flips both axes", gives=lambda: _W.flip(0)),
        Mistake("you flipped it left-right only; convolution flips both axes", gives=lambda: _W.flip(1)),
        Mistake(_TURNED, gives=lambda: torch.rot90(_W)),
        Mistake(_TURNED, gives=lambda: torch.rot90(_W, -1)),
        Mistake(
            "you mirrored W across its other diagonal (the half turn, then a transpose): the half turn alone is it",
            gives=lambda: _W.flip(0, 1).T,
        ),
        Mistake(
            "flipping moves the weights around; it does not change their signs",
            when=lambda case, got, expected: bool((got < 0).any()),
        ),
        Mistake(
            "the right four numbers in the right order, but flat: the kernel is 2x2, a list of two rows "
            "[[a, b], [c, d]]",
            when=lambda case, got, expected: torch.equal(got, expected.flatten()),
        ),
    ),
    passed="\u2713 correlating with {answer} convolves with [[1, 2], [3, 4]]",
)


def check_flipped_kernel(answer) -> None:
    """Exercise: the kernel that makes ``F.conv2d`` (a correlation) compute convolution with [[1, 2], [3, 4]]."""
    check_value(FLIPPED_KERNEL, answer, answer=_W.flip(0, 1).int().tolist())
