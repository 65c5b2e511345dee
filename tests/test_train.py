"""Tests for the digits data (cnn_lessons.data) and the training loop (cnn_lessons.train), kept fast: the full
digits recipe is trained by benchmarks/train_digits.py, not here."""

import functools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from torch import nn

from cnn_lessons.arithmetic import conv_parameter_count
from cnn_lessons.data import (
    DIGITS_SPLIT_SEED,
    DIGITS_TEST_SIZE,
    DigitsSplit,
    load_digits_split,
    random_shifts,
    shift_images,
)
from cnn_lessons.models import SimpleCNN, count_parameters
from cnn_lessons.train import (
    DIGITS_CNN,
    DIGITS_TRAINING,
    History,
    default_device,
    digits_cnn,
    evaluate,
    fit,
    plot_history,
    predict,
)

# ---- the digits split -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def split() -> DigitsSplit:
    return load_digits_split()


def test_split_sizes_types_and_range(split):
    assert (DIGITS_TEST_SIZE, DIGITS_SPLIT_SEED) == (0.25, 0)
    train_images, train_labels, test_images, test_labels = split
    assert train_images.shape == (1347, 1, 8, 8) and test_images.shape == (450, 1, 8, 8)
    assert train_labels.shape == (1347,) and test_labels.shape == (450,)
    assert train_images.dtype == test_images.dtype == torch.float32
    assert train_labels.dtype == test_labels.dtype == torch.int64
    everything = torch.cat([train_images, test_images])
    assert everything.min() == 0.0 and everything.max() == 1.0
    assert torch.equal(everything * 16, (everything * 16).round())  # the raw 0..16 counts, divided by 16
    assert split.train == (train_images, train_labels) and split.test == (test_images, test_labels)


def test_split_is_the_whole_data_set_stratified(split):
    from sklearn.datasets import load_digits

    digits = load_digits()
    totals = np.bincount(digits.target, minlength=10)
    train_counts = torch.bincount(split.train_labels, minlength=10).numpy()
    test_counts = torch.bincount(split.test_labels, minlength=10).numpy()
    assert (train_counts + test_counts == totals).all()
    assert (abs(test_counts - 0.25 * totals) <= 1).all()  # every digit keeps its share in the test set
    # every image appears once: compare the multisets of (image, label) rows
    rows = lambda images, labels: sorted(  # noqa: E731
        tuple(np.append(img.ravel(), lab)) for img, lab in zip(images, labels, strict=True)
    )
    ours = rows(torch.cat([split.train_images, split.test_images]).numpy() * 16, torch.cat(split[1::2]).numpy())
    assert ours == rows(digits.images, digits.target)


def test_split_is_fixed_and_returned_as_copies(split):
    again = load_digits_split()
    assert all(torch.equal(a, b) for a, b in zip(split, again, strict=True))
    again.train_images.zero_()  # a lesson modifying its tensors does not change the next call
    assert torch.equal(load_digits_split().train_images, split.train_images)
    other = load_digits_split(seed=1)
    assert not torch.equal(other.test_labels, split.test_labels)
    assert load_digits_split(test_size=360).test_images.shape == (360, 1, 8, 8)
    assert load_digits_split(test_size=0.2).test_labels.shape == (360,)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [(dict(test_size=0), ValueError), (dict(test_size=1.0), ValueError), (dict(test_size=5), ValueError),
     (dict(test_size="0.25"), TypeError), (dict(seed=-1), ValueError), (dict(seed=1.5), ValueError)],
)  # fmt: skip
def test_split_arguments_are_checked(kwargs, error):
    with pytest.raises(error):
        load_digits_split(**kwargs)


# ---- shifting images --------------------------------------------------------------------------------------------


def shifted_by_hand(image: np.ndarray, dx: int, dy: int) -> np.ndarray:
    height, width = image.shape[-2:]
    out = np.zeros_like(image)
    for y in range(height):
        for x in range(width):
            if 0 <= y - dy < height and 0 <= x - dx < width:
                out[..., y, x] = image[..., y - dy, x - dx]
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(-7, 7), st.integers(-7, 7))
def test_shift_images_moves_and_fills_with_zeros(height, width, dx, dy):
    images = torch.arange(2 * height * width, dtype=torch.float32).reshape(2, 1, height, width) + 1
    shifted = shift_images(images, dx, dy)
    assert np.array_equal(shifted.numpy(), shifted_by_hand(images.numpy(), dx, dy))
    kept = max(0, height - abs(dy)) * max(0, width - abs(dx))
    assert (shifted[0, 0] != 0).sum() == kept  # no wrap-around: what leaves the image is gone


def test_shift_images_examples():
    image = torch.arange(1.0, 10.0).reshape(3, 3)
    assert shift_images(image, 1, 0).tolist() == [[0, 1, 2], [0, 4, 5], [0, 7, 8]]
    assert shift_images(image, 0, -1).tolist() == [[4, 5, 6], [7, 8, 9], [0, 0, 0]]
    assert shift_images(image, 0, 0).tolist() == image.tolist()
    assert not shift_images(image, 3, 0).any()
    with pytest.raises(TypeError, match="dx"):
        shift_images(image, 0.5, 0)
    with pytest.raises(ValueError, match="at least 2 axes"):
        shift_images(torch.ones(3), 1, 0)


def test_random_shifts_is_reproducible_and_shifts_each_image(split):
    images = split.test_images[:40]
    first = random_shifts(images, 1, generator=torch.Generator().manual_seed(3))
    second = random_shifts(images, 1, generator=torch.Generator().manual_seed(3))
    assert torch.equal(first, second)
    offsets = set()
    for image, moved in zip(images, first, strict=True):
        matches = [
            (dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if torch.equal(shift_images(image, dx, dy), moved)
        ]
        assert matches
        offsets.add(matches[0])
    assert len(offsets) > 4  # different images get different offsets
    assert torch.equal(random_shifts(images, 0), images)
    with pytest.raises(ValueError, match="max_shift"):
        random_shifts(images, -1)


# ---- evaluate and predict -------------------------------------------------------------------------------------


class ConstantClassifier(nn.Module):
    """Scores class ``label`` highest for every input."""

    def __init__(self, label: int, num_classes: int = 10):
        super().__init__()
        self.logits = nn.Parameter(torch.nn.functional.one_hot(torch.tensor(label), num_classes).float())

    def forward(self, x):
        return self.logits.expand(len(x), -1)


def test_evaluate_a_perfect_and_a_constant_predictor():
    labels = torch.arange(10).repeat(7)[:64]
    one_hot = torch.nn.functional.one_hot(labels, 10).float()
    assert evaluate(nn.Identity(), one_hot, labels) == 1.0  # the "image" is its label, one-hot
    constant = ConstantClassifier(3)
    assert evaluate(constant, one_hot, labels) == pytest.approx((labels == 3).float().mean().item())
    assert evaluate(constant, one_hot, labels, batch_size=5) == evaluate(constant, one_hot, labels)
    with pytest.raises(ValueError, match="one label per image"):
        evaluate(constant, one_hot, labels[:10])


def test_predict_returns_cpu_labels_and_keeps_the_mode():
    model = SimpleCNN(in_channels=1, input_size=8, conv_channels=(4,), hidden=())
    model.train()
    labels = predict(model, torch.rand(7, 1, 8, 8), batch_size=3)
    assert labels.dtype == torch.int64 and labels.shape == (7,) and labels.device.type == "cpu"
    assert model.training
    assert predict(model, torch.rand(0, 1, 8, 8)).shape == (0,)


# ---- fit --------------------------------------------------------------------------------------------------------


def small_model(seed: int = 0) -> SimpleCNN:
    torch.manual_seed(seed)
    return SimpleCNN(in_channels=1, input_size=8, conv_channels=(8,), pool=2, hidden=(16,))


@pytest.fixture(scope="module")
def subset(split):
    return split.train_images[:200], split.train_labels[:200], split.test_images[:100], split.test_labels[:100]


def test_fit_learns_and_records_each_epoch(subset):
    train_images, train_labels, test_images, test_labels = subset
    model = small_model()
    history = fit(
        model,
        (train_images, train_labels),
        (test_images, test_labels),
        epochs=3,
        lr=2e-2,
        batch_size=20,
        progress=False,
        device="cpu",
    )
    assert isinstance(history, History) and history.epochs == 3
    assert (
        len(history.train_loss)
        == len(history.train_accuracy)
        == len(history.test_accuracy)
        == len(history.seconds)
        == 3
    )
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.train_loss[0] < 2.4  # about ln(10) at the start
    assert all(0.0 <= a <= 1.0 for a in history.train_accuracy + history.test_accuracy)
    assert history.test_accuracy[-1] == evaluate(model, test_images, test_labels) > 0.3  # chance: 0.1
    assert history.total_seconds == pytest.approx(sum(history.seconds))


def test_fit_is_deterministic_on_cpu(subset):
    train = subset[:2]
    augment = functools.partial(random_shifts, max_shift=1)
    runs = []
    for _ in range(2):
        model = small_model()
        history = fit(
            model, train, epochs=2, lr=5e-3, batch_size=50, augment=augment, seed=4, progress=False, device="cpu"
        )
        runs.append((history, [p.detach().clone() for p in model.parameters()]))
    (first, weights), (second, weights_again) = runs
    assert first.train_loss == second.train_loss and first.train_accuracy == second.train_accuracy
    assert first.test_accuracy == [] and all(torch.equal(a, b) for a, b in zip(weights, weights_again, strict=True))
    other = fit(
        small_model(), train, epochs=2, lr=5e-3, batch_size=50, augment=augment, seed=5, progress=False, device="cpu"
    )
    assert other.train_loss != first.train_loss


def test_fit_constant_schedule_threads_and_progress_bar(subset, capsys):
    threads = torch.get_num_threads()
    history = fit(
        small_model(), subset[:2], subset[2:], epochs=2, lr=1e-3, schedule="constant", num_threads=1, device="cpu"
    )
    assert history.epochs == 2 and torch.get_num_threads() == threads
    bar = capsys.readouterr().err
    assert "2/2" in bar and "test_acc=" in bar and "loss=" in bar


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        (dict(train_data=torch.zeros(3)), TypeError, r"\(images, labels\) pair"),
        (
            dict(train_data=(torch.zeros(3, 1, 8, 8), torch.zeros(2, dtype=torch.long))),
            ValueError,
            "one label per image",
        ),
        (dict(train_data=(torch.zeros(3, 1, 8, 8), torch.zeros(3))), TypeError, "integer class indices"),
        (dict(epochs=0), ValueError, "epochs"),
        (dict(lr=-1.0), ValueError, "lr"),
        (dict(batch_size=2.5), ValueError, "batch_size"),
        (dict(schedule="cosine"), ValueError, "one-cycle"),
    ],
)
def test_fit_arguments_are_checked(subset, kwargs, error, pattern):
    arguments = dict(train_data=subset[:2], epochs=1, progress=False, device="cpu") | kwargs
    with pytest.raises(error, match=pattern):
        fit(small_model(), **arguments)


def test_fit_on_the_default_device(subset):
    """CUDA where there is a GPU (run once on one), the CPU elsewhere: the same code path, never skipped."""
    model = small_model()
    device = default_device()
    history = fit(model, subset[:2], subset[2:], epochs=2, lr=1e-2, batch_size=32, progress=False, device=device)
    assert next(model.parameters()).device.type == device.type and history.epochs == 2
    assert predict(model, subset[2]).device.type == "cpu"


# ---- plotting and the recipe ------------------------------------------------------------------------------------


def test_plot_history_draws_both_curves():
    history = History(train_loss=[2.0, 1.0, 0.5], train_accuracy=[0.3, 0.7, 0.9], test_accuracy=[0.4, 0.8, 0.85])
    figure = plot_history(history)
    assert isinstance(figure, Figure) and len(figure.axes) == 2
    loss_ax, accuracy_ax = figure.axes
    assert list(loss_ax.lines[0].get_ydata()) == [2.0, 1.0, 0.5]
    assert [list(line.get_ydata()) for line in accuracy_ax.lines[:2]] == [[0.3, 0.7, 0.9], [0.4, 0.8, 0.85]]
    mine = Figure()
    axes = mine.subplots(1, 2)
    assert plot_history(History([1.0], [0.5]), axes=axes) is mine  # no test data: only the training curve
    assert len(axes[1].lines) == 1


def test_digits_recipe_model():
    model = digits_cnn(seed=0)
    assert dict(model.shape_trace())["flatten"] == (64 * 4 * 4,)
    expected = conv_parameter_count(1, 32, 3) + conv_parameter_count(32, 64, 3) + (1024 + 1) * 128 + (128 + 1) * 10
    assert count_parameters(model) == expected == 151_306
    assert torch.equal(digits_cnn(seed=0).block1.conv.weight, model.block1.conv.weight)  # seeded initial weights
    assert DIGITS_CNN["input_size"] == 8 and DIGITS_TRAINING["epochs"] == 25
