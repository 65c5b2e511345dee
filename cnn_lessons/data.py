"""Data shipped offline with the lessons' dependencies: no downloads.

- :func:`load_photo`: one of scikit-learn's two sample photos as a small grayscale tensor (lesson 01).
- :func:`load_digits_split`: scikit-learn's 1797 handwritten digits (8x8, offline) as train/test tensors,
  split once and for all (stratified, fixed seed), for training a CNN in lesson 03.
- :func:`shift_images` and :func:`random_shifts`: move images by whole pixels, filling with zeros (the
  translation-equivariance experiment, and a light augmentation).
"""

from __future__ import annotations

import math
import numbers
from functools import lru_cache
from typing import NamedTuple

import torch
import torch.nn.functional as F

__all__ = [
    "load_photo",
    "PHOTO_NAMES",
    "LUMA_WEIGHTS",
    "DigitsSplit",
    "load_digits_split",
    "DIGITS_TEST_SIZE",
    "DIGITS_SPLIT_SEED",
    "shift_images",
    "random_shifts",
    "random_rotations",
    "shifts_and_rotations",
]

PHOTO_NAMES = ("china.jpg", "flower.jpg")
"""The photos shipped with scikit-learn (``sklearn.datasets.load_sample_image``), each 427 x 640 RGB."""

LUMA_WEIGHTS = (0.299, 0.587, 0.114)
"""ITU-R BT.601 luma weights for red, green and blue: how bright each primary looks to the eye."""


def load_photo(name: str = "china.jpg", size: int = 128) -> torch.Tensor:
    """A real photo as a ``size`` x ``size`` grayscale float32 tensor with values in [0, 1].

    The RGB sample image is reduced to luma with the BT.601 weights (0.299 R + 0.587 G + 0.114 B), scaled
    from 0..255 to 0..1, centre-cropped to a square (its shorter side, 427 pixels) and shrunk to ``size`` by
    area averaging (each output pixel is the mean of the input pixels it covers), so no detail is invented.
    """
    if not isinstance(name, str) or name not in PHOTO_NAMES:
        raise ValueError(f"name must be one of the photos shipped with scikit-learn, {PHOTO_NAMES}, got {name!r}")
    if isinstance(size, bool) or not isinstance(size, numbers.Integral):
        raise ValueError(f"size must be a whole number of pixels, got {size!r} ({type(size).__name__})")
    gray = _gray_square(name)
    side = gray.shape[0]
    if not 1 <= size <= side:
        raise ValueError(
            f"size must be between 1 and {side} (the photo's shorter side; area averaging only shrinks), got {size}"
        )
    return _shrunk(name, int(size)).clone()


@lru_cache(maxsize=len(PHOTO_NAMES))
def _gray_square(name: str) -> torch.Tensor:
    from sklearn.datasets import load_sample_image  # imported here: scikit-learn is slow to import

    rgb = torch.tensor(load_sample_image(name), dtype=torch.float32)  # (H, W, 3), 0..255; a copy
    gray = rgb @ torch.tensor(LUMA_WEIGHTS, dtype=torch.float32) / 255.0
    height, width = gray.shape
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return gray[top : top + side, left : left + side].contiguous()


@lru_cache(maxsize=8)
def _shrunk(name: str, size: int) -> torch.Tensor:
    square = _gray_square(name)
    photo = F.adaptive_avg_pool2d(square[None, None], size)[0, 0]
    return photo.clamp_(0.0, 1.0)


# --------------------------------------------------------------------------------------------------------
# Handwritten digits (lesson 03)
# --------------------------------------------------------------------------------------------------------

DIGITS_TEST_SIZE = 0.25
"""The lessons' share of the digits kept for testing: 450 of the 1797 images (43 to 46 per class)."""

DIGITS_SPLIT_SEED = 0
"""The ``random_state`` of the lessons' fixed train/test split of the digits."""


class DigitsSplit(NamedTuple):
    """The digits split into train and test tensors; unpacks as ``(train_images, train_labels, test_images,
    test_labels)``, and ``.train`` / ``.test`` give ``(images, labels)`` pairs.

    Images are float32 of shape (N, 1, 8, 8) with values in [0, 1]; labels are int64 digits 0..9.
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor

    @property
    def train(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.train_images, self.train_labels

    @property
    def test(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.test_images, self.test_labels


def load_digits_split(test_size: float = DIGITS_TEST_SIZE, seed: int = DIGITS_SPLIT_SEED) -> DigitsSplit:
    """scikit-learn's handwritten digits as train and test tensors, split the same way on every call.

    The data set (``sklearn.datasets.load_digits``, shipped with scikit-learn, no download) has 1797 images
    of 8x8 pixels whose values count dark pixels in 4x4 blocks of a 32x32 scan, 0..16; they are divided by
    16 so the images lie in [0, 1]. The split is stratified (every digit keeps its share, about 10%, in
    both parts) and fixed by ``seed`` (``train_test_split``'s ``random_state``). ``test_size`` is a
    fraction of the images (0.25: 1347 to train, 450 to test) or a number of test images.
    """
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"test_size must be a fraction such as 0.25 or a number of images, got {test_size!r}")
    if isinstance(test_size, numbers.Integral):
        if not 10 <= test_size <= 1787:
            raise ValueError(
                f"test_size as a number of images must be between 10 and 1787 (one per class in each part "
                f"at least, of 1797), got {test_size}"
            )
        test_size = int(test_size)
    elif not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size as a fraction must be between 0 and 1 (exclusive), got {test_size}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0 (the split's random_state), got {seed!r}")
    return DigitsSplit(*(tensor.clone() for tensor in _digits_split(test_size, int(seed))))


@lru_cache(maxsize=1)
def _digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits  # imported here: scikit-learn is slow to import

    digits = load_digits()
    images = torch.from_numpy(digits.images).to(torch.float32).div_(16.0).unsqueeze(1)  # (1797, 1, 8, 8)
    labels = torch.from_numpy(digits.target).to(torch.int64)
    return images, labels


@lru_cache(maxsize=4)
def _digits_split(test_size: float | int, seed: int) -> tuple[torch.Tensor, ...]:
    from sklearn.model_selection import train_test_split  # imported here: scikit-learn is slow to import

    images, labels = _digits()
    train_index, test_index = train_test_split(
        torch.arange(len(labels)).numpy(), test_size=test_size, stratify=labels.numpy(), random_state=seed
    )
    train_index, test_index = torch.from_numpy(train_index), torch.from_numpy(test_index)
    return images[train_index], labels[train_index], images[test_index], labels[test_index]


def _images(value, least: int, shape: str) -> torch.Tensor:
    """``value`` as a tensor of at least ``least`` axes (``shape`` names them), or an error that says so."""
    try:
        images = torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(
            f"images must be a tensor of shape {shape} (or something torch.as_tensor takes): {error}"
        ) from None
    if images.ndim < least:
        raise ValueError(f"images must have at least {least} axes {shape}, got shape {tuple(images.shape)}")
    return images


def _whole(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number of pixels, got {value!r} ({type(value).__name__})")
    return int(value)


def shift_images(images: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """``images`` moved ``dx`` pixels right and ``dy`` pixels down (negative: left, up), zeros filling in.

    Works on the last two axes of any tensor (..., H, W). Pixels pushed over the edge are lost, not wrapped
    around to the other side (``torch.roll`` would wrap), so a shift by the image's size leaves only zeros.
    """
    images = _images(images, 2, "(..., H, W)")
    dx, dy = _whole("dx", dx), _whole("dy", dy)
    height, width = images.shape[-2:]
    shifted = torch.zeros_like(images)
    if abs(dx) >= width or abs(dy) >= height:
        return shifted
    source_rows, target_rows = slice(max(0, -dy), height - max(0, dy)), slice(max(0, dy), height - max(0, -dy))
    source_cols, target_cols = slice(max(0, -dx), width - max(0, dx)), slice(max(0, dx), width - max(0, -dx))
    shifted[..., target_rows, target_cols] = images[..., source_rows, source_cols]
    return shifted


def random_shifts(images: torch.Tensor, max_shift: int = 1, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each image of a batch (N, ..., H, W) moved by its own random whole-pixel offset, zeros filling in.

    The offsets dx and dy are drawn independently and uniformly from -max_shift..max_shift (so with
    ``max_shift=1``, one of 9 positions, the original among them), using ``generator`` (a CPU
    ``torch.Generator``) when given, for reproducible augmentation. See :func:`shift_images`.
    """
    images = _images(images, 3, "(N, ..., H, W), a batch")
    max_shift = _whole("max_shift", max_shift)
    if max_shift < 0:
        raise ValueError(f"max_shift must be at least 0, got {max_shift}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator (e.g. torch.Generator().manual_seed(0)) or None, "
            f"got {type(generator).__name__}"
        )
    offsets = torch.randint(-max_shift, max_shift + 1, (images.shape[0], 2), generator=generator)
    shifted = torch.empty_like(images)
    for dx, dy in offsets.unique(dim=0).tolist():  # one slice assignment per distinct offset
        chosen = ((offsets[:, 0] == dx) & (offsets[:, 1] == dy)).to(images.device)
        shifted[chosen] = shift_images(images[chosen], dx, dy)
    return shifted


def random_rotations(
    images: torch.Tensor, max_degrees: float = 10.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Each image of a batch (N, C, H, W) turned about its centre by its own random angle, zeros filling in.

    The angles are drawn uniformly from -max_degrees..max_degrees (with ``generator``, a CPU ``torch.Generator``,
    when given); the turned image is sampled bilinearly (``F.affine_grid`` and ``F.grid_sample``), so an 8x8
    digit's strokes blur a little.
    """
    images = _images(images, 4, "(N, C, H, W), a batch")
    if isinstance(max_degrees, bool) or not isinstance(max_degrees, numbers.Real) or not 0 <= max_degrees <= 180:
        raise ValueError(f"max_degrees must be a number of degrees between 0 and 180, got {max_degrees!r}")
    angles = (torch.rand(images.shape[0], generator=generator) * 2 - 1) * math.radians(max_degrees)
    cos, sin = torch.cos(angles), torch.sin(angles)
    zeros = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos, -sin, zeros], 1), torch.stack([sin, cos, zeros], 1)], 1)
    grid = F.affine_grid(theta.to(images), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def shifts_and_rotations(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Lesson 06's augmentation of the digits: :func:`random_shifts` by up to 1 pixel, then :func:`random_rotations`
    by up to 10 degrees."""
    return random_rotations(random_shifts(images, 1, generator=generator), 10.0, generator=generator)
