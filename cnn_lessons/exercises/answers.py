"""What a student's answer is, read before any arithmetic is done with it.

An exercise asks for one kind of answer: one whole number (:class:`Whole`), a pair of them (:class:`Pair`), a
tensor of values (:class:`Values`) or one real number (:class:`Number`). ``read`` turns what came back into that
kind (a numpy integer into an int, a nested list into a tensor, ...) or raises :class:`Unreadable`, whose
``what`` says what came back ("the float 2.5") and whose ``advice`` says what to do ("use // for whole numbers").
``equal`` compares two read answers; ``show`` writes one for a message; ``shape_hint`` explains an answer of the
right kind but the wrong shape (the right values with an extra axis, ...).
"""

from __future__ import annotations

import decimal
import inspect
import math
import numbers

import numpy as np
import torch

__all__ = ["Unreadable", "describe", "Whole", "Pair", "Values", "Number"]


class Unreadable(Exception):
    """What came back is not the kind of answer the exercise asks for."""

    def __init__(self, what: str, advice: str):
        super().__init__(f"{what}: {advice}")
        self.what, self.advice = what, advice


def _short(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 5] + " ...]"


def _tensor_text(value: torch.Tensor) -> str:
    value = value.detach().cpu()
    if value.ndim == 0:
        return repr(value.item())
    return _short(str(value.tolist()))


def describe(value) -> str:
    """A short account of a value for a message: its kind, then its contents (shortened)."""
    if value is None or value is Ellipsis:
        return repr(value)
    if isinstance(value, bool):
        return f"the bool {value}"
    if isinstance(value, (int, np.integer)):
        return f"the int {value}" if isinstance(value, int) else f"the numpy integer {value}"
    if isinstance(value, (float, np.floating)):
        return f"the float {float(value)!r}"
    if isinstance(value, str):
        return f"the string {_short(repr(value))}"
    if isinstance(value, torch.Tensor):
        if value.ndim == 0:
            return f"a 0-d tensor, tensor({_tensor_text(value)})"
        return f"a tensor of shape {tuple(value.shape)}, {_tensor_text(value)}"
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape}, {_short(str(value.tolist()))}"
    if isinstance(value, (list, tuple)):
        kind = type(value).__name__
        count = f"{len(value)} value" + ("" if len(value) == 1 else "s")
        try:
            text = _short(repr(value)) if not any(isinstance(v, torch.Tensor) for v in value) else None
        except Exception:  # a repr that fails is no reason to fail the message
            text = None
        return f"a {kind} of {count}" + (f", {text}" if text else "")
    if inspect.isgenerator(value):
        return "a generator"
    if callable(value):
        return f"the function {getattr(value, '__name__', repr(value))}"
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name} ({_short(repr(value))})"


_TEXT_ADVICE = "return the value itself, not text (no quotes, no f-string, no str(...))"


def _common(value) -> None:
    """What no exercise accepts, said the same way everywhere (None is the caller's to word)."""
    if isinstance(value, str):
        raise Unreadable(describe(value), _TEXT_ADVICE)
    if inspect.isgenerator(value):
        raise Unreadable(
            "a generator",
            "your function uses `yield`, which makes a generator, not a result: build the values in a list "
            "and return it (or return list(...))",
        )
    if isinstance(value, (set, frozenset, dict)):
        raise Unreadable(describe(value), f"a {type(value).__name__} has no order; return a list or a tensor")


def _whole(value, what: str = "a count or a size") -> int:
    """``value`` as an int, or Unreadable with what to do."""
    _common(value)
    if isinstance(value, bool):
        raise Unreadable(describe(value), "a comparison gives a bool; return the number itself")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isfinite(number) and number.is_integer():
            advice = (
                f"{what} is a whole number, an int; `/` always gives a float (even 12 / 4 is 3.0): "
                "use `//` (floor division), or int(...)"
            )
        else:
            advice = f"{what} is a whole number; `/` gives a fraction: the formula rounds down, so use `//`"
        raise Unreadable(describe(value), advice)
    if isinstance(value, (torch.Tensor, np.ndarray)):
        count = value.size if isinstance(value, np.ndarray) else value.numel()
        if count == 1:
            advice = f"{what} is a plain int, not a tensor or array: take it out with `.item()`, or compute with ints"
        else:
            advice = f"return one number, not {count} values"
        raise Unreadable(describe(value), advice)
    if isinstance(value, tuple):
        raise Unreadable(describe(value), "return one number, not a tuple (`return a, b` makes a tuple)")
    if isinstance(value, list):
        raise Unreadable(describe(value), "return one number, not a list")
    raise Unreadable(describe(value), f"return {what}, one int")


class Whole:
    """One whole number: an int (a numpy integer is fine too; a float, a bool, a tensor or text is not)."""

    words = "one int"

    def __init__(self, what: str = "a count or a size"):
        self.what = what

    def read(self, value) -> int:
        return _whole(value, self.what)

    def equal(self, got, expected) -> bool:
        return got == expected

    def show(self, value, precise: bool = False) -> str:
        return f"{value:,}" if isinstance(value, int) and abs(value) >= 10_000 else repr(value)

    def shape_hint(self, got, expected) -> str | None:
        return None


class Pair:
    """Two whole numbers, as a tuple or a list: ``(left, right)``."""

    words = "a pair of ints"

    def __init__(self, names: tuple[str, str] = ("left", "right")):
        self.names = names

    def read(self, value) -> tuple[int, int]:
        _common(value)
        pair = f"({self.names[0]}, {self.names[1]})"
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            raise Unreadable(f"a single number, {value!r}", f"return both numbers as a pair: {pair}")
        if isinstance(value, (torch.Tensor, np.ndarray)):
            raise Unreadable(describe(value), f"return a tuple of two plain ints, {pair}, not a tensor or array")
        if not isinstance(value, (tuple, list)):
            raise Unreadable(describe(value), f"return a pair {pair}")
        if len(value) != 2:
            raise Unreadable(describe(value), f"{pair} has two numbers")
        if any(isinstance(v, (float, np.floating)) for v in value):
            raise Unreadable(
                f"floats, {tuple(value)!r}",
                "these are counts of zeros, whole numbers; `/` always gives a float: use `//`",
            )
        try:
            return tuple(_whole(v) for v in value)
        except Unreadable as problem:
            raise Unreadable(describe(value), f"each number of {pair} must be an int ({problem})") from None

    def equal(self, got, expected) -> bool:
        return tuple(got) == tuple(expected)

    def show(self, value, precise: bool = False) -> str:
        return repr(tuple(value))

    def shape_hint(self, got, expected) -> str | None:
        return None


def _as_values(value) -> torch.Tensor:
    """A tensor, an array or (nested) lists of numbers or tensors as a float64 tensor; Unreadable otherwise."""
    if isinstance(value, torch.Tensor):
        if value.is_complex():
            raise Unreadable(describe(value), "the values are real numbers")
        return value.detach().cpu().to(torch.float64)
    if isinstance(value, np.ndarray):
        try:
            return torch.as_tensor(value.astype(np.float64))
        except (TypeError, ValueError):
            raise Unreadable(describe(value), "the array must hold numbers") from None
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, (torch.Tensor, np.ndarray, list, tuple)) for v in value):
            rows = [_as_values(v) for v in value]
            if len({row.shape for row in rows}) > 1:
                shapes = ", ".join(str(tuple(row.shape)) for row in rows[:4])
                raise Unreadable(describe(value), f"its rows have different shapes ({shapes}, ...); they must match")
            return torch.stack(rows)
        try:
            return torch.as_tensor(
                [v.item() if isinstance(v, (torch.Tensor, np.ndarray)) else v for v in value], dtype=torch.float64
            )
        except (TypeError, ValueError, RuntimeError) as error:
            raise Unreadable(describe(value), f"it must hold numbers only ({error})") from None
    raise Unreadable(describe(value), "return a list or a tensor of numbers")


class Values:
    """A tensor of values (a list, nested lists, a numpy array or a tensor), compared with ``allclose``."""

    words = "a tensor (or list) of numbers"

    def __init__(self, rtol: float = 1e-5, atol: float = 1e-8):
        self.rtol, self.atol = rtol, atol

    def read(self, value) -> torch.Tensor:
        _common(value)
        if isinstance(value, (bool, int, float, np.number)):
            raise Unreadable(describe(value), "one value per position is expected: return them all in a list or tensor")
        return _as_values(value)

    def equal(self, got, expected) -> bool:
        got, expected = torch.as_tensor(got, dtype=torch.float64), torch.as_tensor(expected, dtype=torch.float64)
        return got.shape == expected.shape and bool(
            torch.allclose(got, expected, rtol=self.rtol, atol=self.atol, equal_nan=True)
        )

    def show(self, value, precise: bool = False) -> str:
        value = torch.as_tensor(value, dtype=torch.float64)
        return f"{_short(str(value.tolist()), 300)}"

    def shape_hint(self, got, expected) -> str | None:
        """The right values under an extra (or a missing) axis of size 1."""
        expected = torch.as_tensor(expected, dtype=torch.float64)
        if got.shape == expected.shape or got.squeeze().shape != expected.squeeze().shape:
            return None
        if not self.equal(got.squeeze(), expected.squeeze()):
            return None
        if got.ndim > expected.ndim:
            return (
                f"these are the right values, but with shape {tuple(got.shape)} instead of {tuple(expected.shape)}: "
                "an extra axis of size 1 (from [[...]], or the batch and channel axes of F.conv...); take it away "
                "with `.squeeze()` or by indexing it, e.g. `[0]`"
            )
        return f"these are the right values, but with shape {tuple(got.shape)}: `.reshape{tuple(expected.shape)}` them"


class Number:
    """One real number: a float, a 0-d or one-element tensor or array. More values are read, to be explained."""

    words = "one number"

    def __init__(self, rtol: float = 1e-6, atol: float = 1e-9):
        self.rtol, self.atol = rtol, atol

    def read(self, value) -> torch.Tensor:
        _common(value)
        if isinstance(value, (bool, np.bool_)):
            raise Unreadable(describe(value), "a comparison gives a bool; return the number itself")
        if isinstance(value, (numbers.Real, decimal.Decimal, np.number)) and not np.iscomplexobj(value):  # a Fraction
            return torch.tensor(float(value), dtype=torch.float64)
        return _as_values(value)

    def equal(self, got, expected) -> bool:
        got, expected = torch.as_tensor(got, dtype=torch.float64), torch.as_tensor(expected, dtype=torch.float64)
        if got.numel() != 1 or expected.numel() != 1:
            return got.shape == expected.shape and bool(torch.allclose(got, expected, equal_nan=True))
        return bool(torch.isclose(got.reshape(()), expected.reshape(()), self.rtol, self.atol, equal_nan=True))

    def show(self, value, precise: bool = False) -> str:
        value = torch.as_tensor(value, dtype=torch.float64)
        if value.numel() != 1:
            return f"{value.numel()} values, {_short(str(value.tolist()))}"
        return f"{value.item():.10g}" if precise else f"{value.item():.6g}"

    def shape_hint(self, got, expected) -> str | None:
        if torch.as_tensor(got).numel() != 1:
            return f"the answer is one number; yours has {got.numel()} (shape {tuple(got.shape)})"
        return None
