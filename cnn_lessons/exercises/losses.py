"""Checkers for the exercises on losses: cross-entropy from logits (lesson 03)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnn_lessons.exercises.answers import Number
from cnn_lessons.exercises.core import Exercise, Mistake, check_function

__all__ = ["check_cross_entropy", "cross_entropy_cases"]


def cross_entropy_cases() -> list[dict]:
    """Small batches of float64 logits (one decimal), then logits of about ±1000 where exp overflows.

    The large ones tell apart a log-sum-exp shifted by each row's maximum (right) from one shifted by the batch's
    overall maximum (a row far below it underflows to log(0) = -inf), and float64 from float32 arithmetic.
    """
    rng = torch.Generator().manual_seed(3)
    cases = [{"logits": torch.tensor([[2.0, 1.0, 0.1]], dtype=torch.float64), "labels": torch.tensor([0])}]
    for _ in range(17):
        n, c = int(torch.randint(1, 5, (1,), generator=rng)), int(torch.randint(2, 7, (1,), generator=rng))
        logits = (torch.randn(n, c, generator=rng, dtype=torch.float64) * 3).round(decimals=1)
        cases.append({"logits": logits, "labels": torch.randint(0, c, (n,), generator=rng)})
    for logits, labels in [
        ([[1000.0, 0.0, -5.0], [10.0, 1010.0, 1000.0]], [0, 2]),
        ([[-1000.0, -1002.0]], [1]),
        ([[1000.0, 0.0], [-1000.0, -1001.0]], [0, 0]),  # F.cross_entropy: 0.156631
        ([[2.0, -1.0, 0.5], [-1000.0, -998.5, -1001.0]], [2, 1]),
        ([[1000.3, 999.1, 1001.7], [-3.2, 0.4, 2.9]], [1, 2]),  # float32 keeps 1000.3 to about 3e-5
    ]:
        cases.append({"logits": torch.tensor(logits, dtype=torch.float64), "labels": torch.tensor(labels)})
    return cases


def _rows(labels: torch.Tensor) -> torch.Tensor:
    """Row indices to pair with ``labels``: ``logits[_rows(labels), labels]`` is each row's entry for its label."""
    return torch.arange(len(labels))


def _shifted_by(logits: torch.Tensor, labels: torch.Tensor, top: torch.Tensor, add_back: bool = True):
    """Log-sum-exp shifted by ``top`` (added back, or not), minus the label's logit, averaged over the batch."""
    log_sum = (logits - top).exp().sum(dim=1).log()
    if add_back:
        log_sum = log_sum + top.reshape(-1)
    return (log_sum - logits[_rows(labels), labels]).mean()


def _float32_rounding(case: dict, got: torch.Tensor, expected: torch.Tensor) -> bool:
    if got.numel() != 1 or not torch.isfinite(got).all():
        return False
    error = (got.reshape(()) - expected).abs()
    return bool(error <= 1e-4 * max(1.0, expected.abs().item()))


CROSS_ENTROPY = Exercise(
    name="cross_entropy",
    cases=cross_entropy_cases(),
    reference=lambda logits, labels: F.cross_entropy(logits, labels),
    answer=Number(),
    hint="mean over the batch of logsumexp(logits[i]) - logits[i, labels[i]]",
    mistakes=(
        Mistake(
            "these are the per-example losses: return their mean",
            when=lambda case, got, expected: (
                got.shape == case["labels"].shape
                and bool(torch.allclose(got, F.cross_entropy(case["logits"], case["labels"], reduction="none")))
            ),
        ),
        Mistake(
            "you subtracted the batch's largest logit; each row needs its own maximum, "
            "logits.max(dim=1, keepdim=True): a row far below the batch's maximum underflows (exp gives 0 for all "
            "its entries) and log(0) = -inf",
            gives=lambda logits, labels: _shifted_by(logits, labels, logits.max()),
        ),
        Mistake(
            "exp overflowed (exp(1000) is inf in floating point): subtract each row's maximum from its logits "
            "before exp; the softmax does not change (the log-sum-exp trick)",
            when=lambda case, got, expected: not bool(torch.isfinite(got).all()),
        ),
        Mistake(
            "you took each row's maximum out but did not add it back: logsumexp(z) = m + log(sum(exp(z - m)))",
            gives=lambda logits, labels: _shifted_by(
                logits, labels, logits.max(dim=1, keepdim=True).values, add_back=False
            ),
        ),
        Mistake(
            "you returned the sum over the batch: F.cross_entropy averages",
            gives=lambda logits, labels: F.cross_entropy(logits, labels, reduction="sum"),
        ),
        Mistake(
            "the loss is MINUS the log-probability of the right class",
            gives=lambda logits, labels: -F.cross_entropy(logits, labels),
        ),
        Mistake(
            "the logits are not probabilities: take the log-softmax (subtract the log of the sum of exp over the "
            "classes) before picking the label's entry",
            gives=lambda logits, labels: -logits[_rows(labels), labels].mean(),
        ),
        Mistake(
            "the softmax runs over the classes (dim=1), not over the batch (dim=0)",
            gives=lambda logits, labels: -torch.log_softmax(logits, dim=0)[_rows(labels), labels].mean(),
        ),
        Mistake(
            "logits[:, labels] picks every label's column for every row (an N x N table); pick one entry per row: "
            "logits[torch.arange(len(labels)), labels]",
            gives=lambda logits, labels: -torch.log_softmax(logits, dim=1)[:, labels].mean(),
        ),
        Mistake(
            "you used each row's largest logit instead of its label's: pick logits[i, labels[i]]",
            gives=lambda logits, labels: (logits.logsumexp(dim=1) - logits.max(dim=1).values).mean(),
        ),
        Mistake(
            "the loss is -log of the probability, not minus the probability itself: take the log",
            gives=lambda logits, labels: -torch.softmax(logits, dim=1)[_rows(labels), labels].mean(),
        ),
        Mistake(
            "you averaged -log p over every class; the loss takes only the label's entry of each row",
            gives=lambda logits, labels: -torch.log_softmax(logits, dim=1).mean(),
        ),
        Mistake(
            "right to about 5 significant digits only, which is what float32 arithmetic gives (single precision, "
            "about 7 significant digits, fewer after subtracting numbers near 1000): the logits are float64 (double "
            "precision), so compute in their dtype: no .float(), no torch.tensor(..., dtype=torch.float32)",
            when=_float32_rounding,
        ),
    ),
    passed="\u2713 {name}: correct on all {count} cases, including logits of \u00b11000",
)


def check_cross_entropy(student_cross_entropy, *, time_limit: float | None = None) -> None:
    """Exercise: ``cross_entropy(logits, labels)``, the mean over the batch of -log softmax(logits)[label],
    as ``F.cross_entropy`` computes it, and without overflow for large logits."""
    check_function(CROSS_ENTROPY, student_cross_entropy, "check_cross_entropy", time_limit)
