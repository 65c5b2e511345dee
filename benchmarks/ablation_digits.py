"""Lesson 06's ablation on scikit-learn's digits, with more seeds than the lesson trains.

The same small CNN (``cnn_lessons.train.ablation_cnn``) in each configuration of
``cnn_lessons.train.ABLATION_CONFIGS`` (plain, batch norm, augmentation, dropout, all), trained with
``cnn_lessons.train.ABLATION_TRAINING`` for seeds 0..N-1, tested on the 450 clean test digits and on the same
digits moved one pixel right, left, down and up (averaged). Prints a table (mean, spread, and whether each
configuration beats plain for every seed by more than two test digits) and ends with one summary line per
configuration::

    ablation_digits config=batch_norm clean_acc=0.9870 shifted_acc=0.6450 seeds=5

Run: ``python benchmarks/ablation_digits.py [--seeds 5]`` (about a second per run on 2 CPU cores, 25 runs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnn_lessons.train import ABLATION_CONFIGS, ABLATION_TRAINING, run_ablation  # noqa: E402

MARGIN = 2 / 450
"""Two of the 450 test digits: what another processor's rounding can change (lesson 06 uses the same margin)."""


def verdict(ours: list[float], theirs: list[float]) -> str:
    """'higher' or 'lower' only when every seed of one beats every seed of the other by more than MARGIN."""
    if min(ours) > max(theirs) + MARGIN:
        return "higher"
    if max(ours) < min(theirs) - MARGIN:
        return "lower"
    return "within spread"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="train seeds 0..N-1 of every configuration (default 5)")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1, got {args.seeds}")

    start = time.perf_counter()
    results = {config: [run_ablation(config, seed) for seed in range(args.seeds)] for config in ABLATION_CONFIGS}
    seconds = time.perf_counter() - start

    print(
        f"training: {ABLATION_TRAINING}; seeds 0..{args.seeds - 1}; "
        f"{seconds:.1f} s in all, load average {os.getloadavg()[0]:.1f}"
    )
    print()
    print(
        f"{'config':<13} {'clean mean':>10} {'min':>6} {'max':>6} {'vs plain':>14} | "
        f"{'shifted mean':>12} {'min':>6} {'max':>6} {'vs plain':>14}"
    )
    print("-" * 104)
    plain = results["plain"]
    for config, runs in results.items():
        clean = [run.clean_accuracy for run in runs]
        shifted = [run.shifted_accuracy for run in runs]
        clean_vs = "" if config == "plain" else verdict(clean, [r.clean_accuracy for r in plain])
        shifted_vs = "" if config == "plain" else verdict(shifted, [r.shifted_accuracy for r in plain])
        print(
            f"{config:<13} {statistics.mean(clean):>10.4f} {min(clean):>6.3f} {max(clean):>6.3f} {clean_vs:>14} | "
            f"{statistics.mean(shifted):>12.4f} {min(shifted):>6.3f} {max(shifted):>6.3f} {shifted_vs:>14}"
        )
    print()
    for config, runs in results.items():
        clean = statistics.mean(run.clean_accuracy for run in runs)
        shifted = statistics.mean(run.shifted_accuracy for run in runs)
        name = config.replace(" ", "_")
        print(f"ablation_digits config={name} clean_acc={clean:.4f} shifted_acc={shifted:.4f} seeds={args.seeds}")


if __name__ == "__main__":
    main()
