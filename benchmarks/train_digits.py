"""Lesson 03's digits CNN against a classical baseline, on the same fixed split of scikit-learn's digits.

Trains the lesson's CNN (``cnn_lessons.train.train_digits_cnn``, timed) and an RBF support vector machine
(``sklearn.svm.SVC(C=10, gamma="scale")`` on the 64 pixels of each image), prints a table, and ends with one
summary line::

    train_digits test_acc=0.9978 svc_acc=0.9911 train_s=3.21 epochs=25

``train_s`` is the wall time of the CNN's training (``train_digits_cnn``: building the model, 25 epochs,
a test evaluation after each), measured after a warm-up that pays one-off import costs. It depends on how
busy the machine is: the table shows the load average next to it. ``--seeds N`` trains N seeds (0..N-1)
and reports seed 0 in the summary line, plus the spread in the table.

Run: ``python benchmarks/train_digits.py`` (about 5-10 s on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from sklearn.svm import SVC

from cnn_lessons.data import load_digits_split
from cnn_lessons.models import count_parameters
from cnn_lessons.train import DIGITS_TRAINING, default_device, train_digits_cnn


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1, help="train the CNN for seeds 0..N-1 (default 1)")
    args = parser.parse_args(argv)

    split = load_digits_split()
    torch.optim.AdamW([torch.zeros(1, requires_grad=True)])  # warm-up: the first optimizer imports torch._dynamo

    runs = []
    for seed in range(args.seeds):
        start = time.perf_counter()
        model, history = train_digits_cnn(seed=seed, progress=False)
        runs.append((seed, history.test_accuracy[-1], time.perf_counter() - start, os.getloadavg()[0]))

    flat_train = split.train_images.flatten(1).numpy()
    start = time.perf_counter()
    svc = SVC(C=10, gamma="scale").fit(flat_train, split.train_labels.numpy())
    svc_fit_s = time.perf_counter() - start
    svc_acc = float((svc.predict(split.test_images.flatten(1).numpy()) == split.test_labels.numpy()).mean())

    device = default_device()
    print(
        f"digits: {len(split.train_labels)} training and {len(split.test_labels)} test images of 8x8 pixels; "
        f"device {device}" + (", 1 torch thread" if device.type == "cpu" else "")
    )
    print()
    header = f"{'model':<30} {'train_s':>8} {'test_acc':>9}  notes"
    print(header)
    print("-" * 78)
    params = count_parameters(model)
    for seed, accuracy, seconds, load in runs:
        notes = f"{params:,} parameters, {DIGITS_TRAINING['epochs']} epochs, load average {load:.2f}"
        print(f"{f'SimpleCNN (digits), seed {seed}':<30} {seconds:>8.2f} {accuracy:>9.4f}  {notes}")
    notes = f"{svc.support_.size} support vectors"
    print(f"{'SVC (RBF, C=10, gamma=scale)':<30} {svc_fit_s:>8.2f} {svc_acc:>9.4f}  {notes}")
    if len(runs) > 1:
        accuracies = [accuracy for _, accuracy, _, _ in runs]
        met = sum(accuracy >= 0.993 for accuracy in accuracies)
        print(
            f"\nCNN over {len(runs)} seeds: min {min(accuracies):.4f}, mean {sum(accuracies) / len(runs):.4f}, "
            f"max {max(accuracies):.4f}; {met}/{len(runs)} reach 0.993"
        )
    print()
    _, accuracy, seconds, _ = runs[0]
    print(
        f"train_digits test_acc={accuracy:.4f} svc_acc={svc_acc:.4f} train_s={seconds:.2f} "
        f"epochs={DIGITS_TRAINING['epochs']}"
    )


if __name__ == "__main__":
    main()
