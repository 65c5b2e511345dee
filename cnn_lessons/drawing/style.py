"""Colours, and how every number in a figure is written (``−1``, ``0.11``, ``12``)."""

from __future__ import annotations

import matplotlib

__all__ = [
    "MINUS",
    "TIMES",
    "COLORS",
    "DIVERGING",
    "format_number",
    "term",
    "colormap",
    "format_count",
]


MINUS = "\u2212"


TIMES = "\u00b7"


COLORS = {
    "edge": "#9a9a9a",  # cell borders
    "input": "#ffffff",  # signal / image cells
    "pad": "#e8e8e8",  # zero padding
    "pad_text": "#8a8a8a",
    "kernel": "#d4e4f4",  # kernel cells (light blue)
    "product": "#fbeec1",  # products (light yellow)
    "done": "#dcefd6",  # outputs already computed (light green)
    "todo": "#f6f6f6",  # outputs not reached yet
    "current": "#fdd3a8",  # the output being computed
    "highlight": "#d95f0e",  # window and current-output outlines, the sum arrow
    "text": "#222222",
}


DIVERGING = "RdBu_r"  # negative blue, zero white, positive red


def format_number(value, digits: int = 2) -> str:
    """A number as the figures write it: rounded to ``digits`` decimals, no trailing zeros, a real minus sign.

    >>> format_number(-1.0), format_number(1 / 9), format_number(2.50), format_number(-0.001)
    ('−1', '0.11', '2.5', '0')
    """
    value = round(float(value), digits)
    if value == 0:
        return "0"
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits > 0 else f"{value:.0f}"
    return text.replace("-", MINUS)


def term(value) -> str:
    """A number as a term of a written-out sum: negative numbers in parentheses, ``(−1)``."""
    text = format_number(value)
    return f"({text})" if text.startswith(MINUS) else text


def colormap(cmap):
    """A colormap by name (or the colormap itself)."""
    return matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap


def format_count(count: int) -> str:
    """A parameter count as the bar chart writes it: ``156``, ``9.5 k``, ``11.7 M``."""
    count = int(count)
    if abs(count) >= 1_000_000:
        return f"{count / 1e6:.1f} M"
    if abs(count) >= 1_000:
        return f"{count / 1e3:.1f} k"
    return str(count)
