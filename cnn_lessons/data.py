"""Data shipped offline with the lessons' dependencies: no downloads.

- :func:`load_photo`: one of scikit-learn's two sample photos as a small grayscale tensor (lesson 01).
"""

from __future__ import annotations

import numbers
from functools import lru_cache

import torch
import torch.nn.functional as F

__all__ = ["load_photo", "PHOTO_NAMES", "LUMA_WEIGHTS"]

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
