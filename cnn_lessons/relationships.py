"""The fifteen relationships of convolution arithmetic, as data, each checked against torch.

Dumoulin & Visin, *A guide to convolution arithmetic for deep learning* (arXiv:1603.07285), state the output
size of convolutions (relationships 1-6), pooling (7), transposed convolutions (8-14) and dilated convolutions
(15) as fifteen numbered cases. Here each is a :class:`Relationship`: its condition in words, its formula (as
LaTeX, as a template with the sizes' names, and as a Python function), the configurations to check it on, and
the torch call that confirms it. :func:`check_relationship` runs one over all its configurations.

Their notation: input size ``i``, kernel ``k``, stride ``s``, zero padding ``p``, dilation ``d``, output ``o``;
for a transposed convolution ``i'`` and ``o'`` (written ``i_`` in Python) and ``a``, the extra zeros at the
bottom and right that torch calls ``output_padding``. Inputs and kernels are square, so one axis tells all (the
checks run 2-D tensors anyway).

A module of its own, not part of :mod:`cnn_lessons.arithmetic`: the checks call torch and
:func:`cnn_lessons.ops.conv_transpose2d_as_direct`, and ``ops`` imports ``arithmetic``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from cnn_lessons.arithmetic import conv_output_size
from cnn_lessons.ops import conv_transpose2d_as_direct

__all__ = [
    "FAMILIES",
    "Relationship",
    "RELATIONSHIPS",
    "relationship",
    "RelationshipCheck",
    "check_relationship",
    "check_relationships",
    "relationship_table",
    "round_trip_cases",
    "check_round_trips",
]

FAMILIES = ("no padding", "padding", "stride", "pooling", "transposed", "dilation")
"""The guide's grouping: sections 2.1 (no zero padding, unit strides), 2.2 (zero padding, unit strides), 2.3-2.4
(non-unit strides), 3 (pooling), 4 (transposed convolutions) and 5.1 (dilated convolutions)."""

SIZES = range(1, 16)
"""Input and kernel sizes the direct convolutions are checked over."""

_SHOWN = {"i_": "i'"}  # names as the guide writes them


@contextlib.contextmanager
def _one_thread():
    """Run torch on one thread: on tensors this small, handing work to other threads costs 10-40x the work."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _fits(i: int, k: int, p: int = 0, d: int = 1) -> bool:
    """Whether a dilated kernel fits in the padded input (torch refuses the configuration otherwise)."""
    return i + 2 * p >= d * (k - 1) + 1


# --- the torch calls that confirm a relationship ------------------------------------------------------------------


def conv_size(i: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """The output size ``F.conv2d`` gives on an i x i input with a k x k kernel."""
    return F.conv2d(torch.zeros(1, 1, i, i), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d).shape[-1]


def pool_size(i: int, k: int, s: int, kind: str) -> int:
    """The output size ``F.max_pool2d`` (``kind="max"``) or ``F.avg_pool2d`` (``"avg"``) gives."""
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    return pool(torch.zeros(1, 1, i, i), k, s).shape[-1]


def transposed_size(i_: int, k: int, s: int = 1, p: int = 0, a: int = 0) -> int:
    """The output size ``F.conv_transpose2d`` gives on an i' x i' input (``a`` is its ``output_padding``)."""
    y, weight = torch.zeros(1, 1, i_, i_), torch.zeros(1, 1, k, k)
    return F.conv_transpose2d(y, weight, stride=s, padding=p, output_padding=a).shape[-1]


def transposed_values(i_: int, k: int, s: int = 1, p: int = 0, a: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(the guide's direct convolution, ``F.conv_transpose2d``) on the same random float64 input and weight.

    The direct convolution (:func:`cnn_lessons.ops.conv_transpose2d_as_direct`) correlates the input stretched by
    ``s``, padded with k - p - 1 zeros (plus ``a`` at the bottom and right), with the flipped kernel.
    """
    generator = torch.Generator().manual_seed(0)
    y = torch.randn(1, 2, i_, i_, generator=generator, dtype=torch.float64)
    weight = torch.randn(2, 3, k, k, generator=generator, dtype=torch.float64)
    return (
        conv_transpose2d_as_direct(y, weight, stride=s, padding=p, output_padding=a),
        F.conv_transpose2d(y, weight, stride=s, padding=p, output_padding=a),
    )


# --- the relationships as data ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Relationship:
    """One of the guide's fifteen relationships.

    ``expression`` is the formula as a template of the sizes' names in Python syntax (``"({i} - {k}) + 1"``):
    filled with the names it reads as the formula, filled with numbers it is the worked example, and the tests
    check that it computes what ``formula`` computes. ``cases()`` yields the configurations to check, as dicts of
    the keyword arguments of ``formula`` and ``torch_size`` (and ``torch_values``, for relationships 8-14: the
    guide's direct convolution and torch's transposed one, whose values must agree). ``example`` is the worked
    example, one of the cases.
    """

    number: int
    family: str
    condition: str
    latex: str
    expression: str
    formula: Callable[..., int]
    cases: Callable[[], Iterator[dict]]
    torch_size: Callable[..., int]
    example: dict
    torch_values: Callable[..., tuple[torch.Tensor, torch.Tensor]] | None = None
    direct: str = ""
    """For a transposed convolution: the direct convolution it equals, in the guide's primed notation."""

    @property
    def output(self) -> str:
        """The output's name: ``o``, or ``o'`` for a transposed convolution."""
        return "o'" if self.family == "transposed" else "o"

    def formula_text(self) -> str:
        """The formula with the sizes' names, e.g. ``o = (i - k) + 1``."""
        names = {name: _SHOWN.get(name, name) for name in _names(self.expression)}
        return f"{self.output} = {self.expression.format(**names)}"

    def worked_text(self, config: dict | None = None) -> str:
        """The formula with the numbers of ``config`` (default: :attr:`example`), e.g. ``o = (4 - 3) + 1 = 2``."""
        config = self.example if config is None else config
        filled = self.expression.format(**config)
        result = self.formula(**config)
        return f"{self.output} = {filled}" + ("" if filled == str(result) else f" = {result}")

    def worked(self, config: dict | None = None) -> str:
        """The worked example in one line: ``i=4, k=3: o = (4 - 3) + 1 = 2``."""
        config = self.example if config is None else config
        return f"{_shown(config)}: {self.worked_text(config)}"


def _names(expression: str) -> list[str]:
    return [part.split("}")[0] for part in expression.split("{")[1:]]


def _conv_cases(ks=SIZES, ss=(1,), ps=(0,), ds=(1,), keys="ik") -> Callable[[], Iterator[dict]]:
    def cases() -> Iterator[dict]:
        for i in SIZES:
            for k in ks:
                for s in ss:
                    for p in ps:
                        for d in ds:
                            if _fits(i, k, p, d):
                                yield {
                                    key: value
                                    for key, value in zip("iksdp", (i, k, s, d, p), strict=True)
                                    if key in keys
                                }

    return cases


def _half_padding_cases() -> Iterator[dict]:
    for i in SIZES:
        for k in range(1, 16, 2):
            yield {"i": i, "k": k, "p": k // 2}


def _full_padding_cases() -> Iterator[dict]:
    for i in SIZES:
        for k in SIZES:
            yield {"i": i, "k": k, "p": k - 1}


def _pool_cases() -> Iterator[dict]:
    for i in SIZES:
        for k in range(1, 6):
            for s in range(1, 4):
                for kind in ("max", "avg"):
                    if k <= i:
                        yield {"i": i, "k": k, "s": s, "kind": kind}


def _transposed_cases(sizes, kernels, strides, paddings, names) -> Callable[[], Iterator[dict]]:
    """Configurations of a transposed convolution: i' in ``sizes``, k in ``kernels``, s in ``strides``, p in
    ``paddings(k)``, a from 0 to s - 1 if ``"a"`` is one of ``names`` (else 0); only ``names`` are kept."""

    def cases() -> Iterator[dict]:
        for i_ in sizes:
            for k in kernels:
                for s in strides:
                    for p in paddings(k):
                        for a in range(s) if "a" in names else (0,):
                            if s * (i_ - 1) + a + k - 2 * p >= 1:  # else cropped to nothing: torch refuses
                                config = {"i_": i_, "k": k, "s": s, "p": p, "a": a}
                                yield {name: config[name] for name in names}

    return cases


_FLOOR = r"\lfloor (%s) / s \rfloor + 1"

RELATIONSHIPS: tuple[Relationship, ...] = (
    Relationship(
        number=1,
        family="no padding",
        condition="no zero padding, unit strides",
        latex="o = (i - k) + 1",
        expression="({i} - {k}) + 1",
        formula=lambda i, k: (i - k) + 1,
        cases=_conv_cases(keys="ik"),
        torch_size=conv_size,
        example={"i": 4, "k": 3},
    ),
    Relationship(
        number=2,
        family="padding",
        condition="zero padding p, unit strides",
        latex="o = (i - k) + 2p + 1",
        expression="({i} - {k}) + 2*{p} + 1",
        formula=lambda i, k, p: (i - k) + 2 * p + 1,
        cases=_conv_cases(ps=range(4), keys="ikp"),
        torch_size=conv_size,
        example={"i": 5, "k": 4, "p": 2},
    ),
    Relationship(
        number=3,
        family="padding",
        condition="half padding (odd k, p = k // 2), unit strides",
        latex="o = i",
        expression="{i}",
        formula=lambda i, k, p: i,
        cases=_half_padding_cases,
        torch_size=conv_size,
        example={"i": 5, "k": 3, "p": 1},
    ),
    Relationship(
        number=4,
        family="padding",
        condition="full padding (p = k - 1), unit strides",
        latex="o = i + (k - 1)",
        expression="{i} + ({k} - 1)",
        formula=lambda i, k, p: i + (k - 1),
        cases=_full_padding_cases,
        torch_size=conv_size,
        example={"i": 5, "k": 3, "p": 2},
    ),
    Relationship(
        number=5,
        family="stride",
        condition="no zero padding, stride s",
        latex=r"o = " + _FLOOR % "i - k",
        expression="({i} - {k}) // {s} + 1",
        formula=lambda i, k, s: (i - k) // s + 1,
        cases=_conv_cases(ss=range(1, 5), keys="iks"),
        torch_size=conv_size,
        example={"i": 5, "k": 3, "s": 2},
    ),
    Relationship(
        number=6,
        family="stride",
        condition="zero padding p, stride s",
        latex=r"o = " + _FLOOR % "i + 2p - k",
        expression="({i} + 2*{p} - {k}) // {s} + 1",
        formula=lambda i, k, s, p: (i + 2 * p - k) // s + 1,
        cases=_conv_cases(ks=range(1, 8), ss=range(1, 5), ps=range(4), keys="iksp"),
        torch_size=conv_size,
        example={"i": 6, "k": 3, "s": 2, "p": 1},
    ),
    Relationship(
        number=7,
        family="pooling",
        condition="pooling window k, stride s, no padding",
        latex=r"o = " + _FLOOR % "i - k",
        expression="({i} - {k}) // {s} + 1",
        formula=lambda i, k, s, kind: (i - k) // s + 1,
        cases=_pool_cases,
        torch_size=pool_size,
        example={"i": 6, "k": 2, "s": 2, "kind": "max"},
    ),
    Relationship(
        number=8,
        family="transposed",
        condition="transpose of: no zero padding, unit strides",
        direct="k' = k, s' = 1, p' = k - 1",
        latex="o' = i' + (k - 1)",
        expression="{i_} + ({k} - 1)",
        formula=lambda i_, k: i_ + (k - 1),
        cases=_transposed_cases(range(1, 9), range(1, 6), (1,), lambda k: (0,), ("i_", "k")),
        torch_size=transposed_size,
        torch_values=transposed_values,
        example={"i_": 2, "k": 3},
    ),
    Relationship(
        number=9,
        family="transposed",
        condition="transpose of: zero padding p, unit strides",
        direct="k' = k, s' = 1, p' = k - p - 1",
        latex="o' = i' + (k - 1) - 2p",
        expression="{i_} + ({k} - 1) - 2*{p}",
        formula=lambda i_, k, p: i_ + (k - 1) - 2 * p,
        cases=_transposed_cases(range(1, 9), range(1, 6), (1,), range, ("i_", "k", "p")),
        torch_size=transposed_size,
        torch_values=transposed_values,
        example={"i_": 6, "k": 4, "p": 2},
    ),
    Relationship(
        number=10,
        family="transposed",
        condition="transpose of: half padding, unit strides",
        direct="k' = k, s' = 1, p' = p",
        latex="o' = i'",
        expression="{i_}",
        formula=lambda i_, k, p: i_,
        cases=_transposed_cases(range(1, 9), (1, 3, 5, 7), (1,), lambda k: (k // 2,), ("i_", "k", "p")),
        torch_size=transposed_size,
        torch_values=transposed_values,
        example={"i_": 5, "k": 3, "p": 1},
    ),
    Relationship(
        number=11,
        family="transposed",
        condition="transpose of: full padding, unit strides",
        direct="k' = k, s' = 1, p' = 0",
        latex="o' = i' - (k - 1)",
        expression="{i_} - ({k} - 1)",
        formula=lambda i_, k, p: i_ - (k - 1),
        cases=_transposed_cases(range(1, 9), range(1, 6), (1,), lambda k: (k - 1,), ("i_", "k", "p")),
        torch_size=transposed_size,
        torch_values=transposed_values,
        example={"i_": 7, "k": 3, "p": 2},
    ),
    Relationship(
        number=12,
        family="transposed",
        condition="transpose of: no zero padding, stride s, s divides i - k",
        direct="input stretched (s - 1 zeros between values), k' = k, s' = 1, p' = k - 1",
        latex="o' = s(i' - 1) + k",
        expression="{s}*({i_} - 1) + {k}",
        formula=lambda i_, k, s: s * (i_ - 1) + k,
        cases=_transposed_cases(range(1, 7), range(1, 6), (2, 3), lambda k: (0,), ("i_", "k", "s")),
        torch_size=transposed_size,
        torch_values=transposed_values,
        example={"i_": 2, "k": 3, "s": 2},
    ),
    Relationship(
        number=13,
        family="transposed",
        condition="transpose of: zero padding p, stride s, s divides i + 2p - k",
        direct="input stretched (s - 1 zeros between values), k' = k, s' = 1, p' = k - p - 1",
        latex="o' = s(i' - 1) + k - 2p",
        expression="{s}*({i_} - 1) + {k} - 2*{p}",
        formula=lambda i_, k, s, p: s * (i_ - 1) + k - 2 * p,
        cases=_transposed_cases(range(1, 7), range(1, 6), (2, 3), range, ("i_", "k", "s", "p")),
        torch_size=transposed_size,
        torch_values=transposed_values,
        example={"i_": 3, "k": 3, "s": 2, "p": 1},
    ),
    Relationship(
        number=14,
        family="transposed",
        condition="transpose of: zero padding p, stride s, a = (i + 2p - k) mod s",
        direct=(
            "input stretched (s - 1 zeros between values), k' = k, s' = 1, p' = k - p - 1, "
            "plus a zeros at the bottom and right"
        ),
        latex="o' = s(i' - 1) + a + k - 2p",
        expression="{s}*({i_} - 1) + {a} + {k} - 2*{p}",
        formula=lambda i_, k, s, p, a: s * (i_ - 1) + a + k - 2 * p,
        cases=_transposed_cases(range(1, 6), range(1, 6), (2, 3), range, ("i_", "k", "s", "p", "a")),
        torch_size=transposed_size,
        torch_values=transposed_values,
        example={"i_": 3, "k": 3, "s": 2, "p": 1, "a": 1},
    ),
    Relationship(
        number=15,
        family="dilation",
        condition="dilation d, zero padding p, stride s",
        latex=r"o = " + _FLOOR % "i + 2p - k - (k - 1)(d - 1)",
        expression="({i} + 2*{p} - {k} - ({k} - 1)*({d} - 1)) // {s} + 1",
        formula=lambda i, k, s, p, d: (i + 2 * p - k - (k - 1) * (d - 1)) // s + 1,
        cases=_conv_cases(ks=range(1, 6), ss=range(1, 4), ps=range(3), ds=range(1, 4), keys="ikspd"),
        torch_size=conv_size,
        example={"i": 7, "k": 3, "s": 1, "p": 0, "d": 2},
    ),
)
"""The guide's fifteen relationships, ``RELATIONSHIPS[n - 1]`` is relationship ``n``."""


def relationship(number: int) -> Relationship:
    """Relationship ``number`` (1 to 15)."""
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= len(RELATIONSHIPS):
        raise ValueError(f"the guide numbers its relationships 1 to {len(RELATIONSHIPS)}, got {number!r}")
    return RELATIONSHIPS[number - 1]


# --- checking ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RelationshipCheck:
    """What :func:`check_relationship` found: every configuration held, how many there were, and the example."""

    relationship: Relationship
    configurations: int
    values_checked: bool
    example_output: int

    @property
    def number(self) -> int:
        return self.relationship.number

    @property
    def example(self) -> dict:
        return self.relationship.example


def check_relationship(number: int | Relationship) -> RelationshipCheck:
    """Check relationship ``number`` against torch over all its configurations; AssertionError names a failure.

    For every configuration the formula must give torch's output size, and for a transposed convolution
    (8-14) the guide's direct convolution must compute torch's values (float64, ``torch.allclose``). The worked
    example must be one of the configurations. A :class:`Relationship` may be passed instead of a number (a
    test plants a wrong formula this way).
    """
    rel = number if isinstance(number, Relationship) else relationship(number)
    count = 0
    example_seen = False
    with _one_thread():
        for config in rel.cases():
            _check_configuration(rel, config)
            example_seen = example_seen or config == rel.example
            count += 1
    if not example_seen:
        raise AssertionError(f"relationship {rel.number}'s worked example {_shown(rel.example)} is not among its cases")
    return RelationshipCheck(
        relationship=rel,
        configurations=count,
        values_checked=rel.torch_values is not None,
        example_output=rel.formula(**rel.example),
    )


def _check_configuration(rel: Relationship, config: dict) -> None:
    ours, by_torch = rel.formula(**config), rel.torch_size(**config)
    if ours != by_torch:
        raise AssertionError(
            f"relationship {rel.number} fails for {_shown(config)}: the formula gives {rel.output} = {ours}, "
            f"torch gives {by_torch}"
        )
    if rel.torch_values is not None:
        direct, transposed = rel.torch_values(**config)
        if direct.shape != transposed.shape or not torch.allclose(direct, transposed):
            raise AssertionError(
                f"relationship {rel.number} fails for {_shown(config)}: the direct convolution of the stretched, "
                f"padded input with the flipped kernel differs from F.conv_transpose2d"
            )


def check_relationships() -> list[RelationshipCheck]:
    """:func:`check_relationship` for all fifteen, in order."""
    return [check_relationship(rel.number) for rel in RELATIONSHIPS]


def _shown(config: dict) -> str:
    return ", ".join(f"{_SHOWN.get(name, name)}={value}" for name, value in config.items())


def relationship_table(checks: list[RelationshipCheck]) -> str:
    """A plain-text table of checked relationships, grouped by family, two lines each.

    The first line: number, condition, formula and how many configurations were checked; the second: the worked
    example's sizes under the condition and its numbers under the formula.
    """
    rows = [("#", "condition / worked example", "formula / with the example's numbers", "configurations checked")]
    family = None
    for check in checks:
        rel = check.relationship
        if rel.family != family:
            family = rel.family
            rows.append((family, "", "", ""))
        counted = f"{check.configurations}" + (" (sizes and values)" if check.values_checked else "")
        rows.append((str(rel.number), rel.condition, rel.formula_text(), counted))
        rows.append(("", _shown(rel.example), rel.worked_text(), ""))
    widths = [max(len(row[column]) for row in rows if row[1]) for column in range(4)]
    lines = []
    for row in rows:
        if not row[1]:  # a family's heading
            lines.append(row[0])
        else:
            lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


# --- relationship 14 undoes a convolution ---------------------------------------------------------------------------


def round_trip_cases() -> Iterator[dict]:
    """Convolutions (i, k, s, p) with stride 2 or 3 and padding at most k - 1, that relationship 14 undoes."""
    for i in range(1, 14):
        for k in range(1, 6):
            for s in (2, 3):
                for p in range(3):
                    if _fits(i, k, p) and p <= k - 1:
                        yield {"i": i, "k": k, "s": s, "p": p}


def check_round_trips() -> int:
    """Convolve, then transposed-convolve with a = (i + 2p - k) mod s: the size comes back to i. Returns the count.

    Several input sizes give one output size under a stride-s convolution; ``a`` (``output_padding``) says which
    one to return to. Both relationship 14's formula and ``F.conv_transpose2d`` must give ``i`` back.
    """
    count = 0
    with _one_thread():
        for config in round_trip_cases():
            _check_round_trip(**config)
            count += 1
    return count


def _check_round_trip(i: int, k: int, s: int, p: int) -> None:
    o = conv_output_size(i, k, s, p)
    a = (i + 2 * p - k) % s
    back = relationship(14).formula(i_=o, k=k, s=s, p=p, a=a)
    by_torch = transposed_size(o, k, s, p, a)
    if not back == by_torch == i:
        raise AssertionError(
            f"the round trip fails for i={i}, k={k}, s={s}, p={p}: the convolution gives o = {o} and a = {a}; "
            f"relationship 14 gives {back} back, torch gives {by_torch}, not i = {i}"
        )
