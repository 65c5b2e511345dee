"""Lesson 06's training helpers: the digits' rotations, the ablation's CNN and one ablation run."""

import math

import pytest
import torch
from torch import nn

from cnn_lessons import arithmetic, data, train


def test_no_turn_changes_nothing():
    torch.manual_seed(0)
    images = torch.rand(5, 2, 8, 8)
    assert torch.equal(data.random_rotations(images, 0.0), images)


def test_rotations_keep_the_ink_of_a_centred_digit_and_are_reproducible():
    split = data.load_digits_split()
    images = split.train_images[:64]
    first = data.random_rotations(images, 10.0, generator=torch.Generator().manual_seed(3))
    again = data.random_rotations(images, 10.0, generator=torch.Generator().manual_seed(3))
    assert torch.equal(first, again)
    ink = first.sum() / images.sum()
    assert 0.9 < ink.item() < 1.05  # a small turn moves little ink out of the frame
    both = data.shifts_and_rotations(images, generator=torch.Generator().manual_seed(3))
    assert both.shape == images.shape and not torch.equal(both, images)


@pytest.mark.parametrize("bad", [-1, 200, "ten", True])
def test_bad_rotation_angles_are_explained(bad):
    with pytest.raises(ValueError, match="max_degrees must be a number of degrees between 0 and 180"):
        data.random_rotations(torch.zeros(1, 1, 8, 8), bad)


def test_ablation_cnn_shapes_and_parameter_counts():
    plain = train.ablation_cnn()
    normed = train.ablation_cnn(batch_norm=True, dropout=0.3)
    count = lambda model: sum(p.numel() for p in model.parameters())  # noqa: E731
    expected = (
        arithmetic.conv_parameter_count(1, 16, 3) + arithmetic.conv_parameter_count(16, 32, 3) + (32 * 4 * 4 + 1) * 10
    )
    assert count(plain) == expected == 9_930
    # batch norm: no conv biases (16 + 32 fewer), 2 parameters per channel (2 * (16 + 32) more)
    assert count(normed) == expected - 48 + 96
    assert (
        sum(isinstance(m, nn.Dropout) for m in normed) == 1 and sum(isinstance(m, nn.BatchNorm2d) for m in normed) == 2
    )
    assert plain(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    with pytest.raises(ValueError, match="dropout must be a probability"):
        train.ablation_cnn(dropout=1.0)


def test_shifted_accuracy_averages_the_four_moves():
    split = data.load_digits_split()
    model = train.ablation_cnn(seed=1).eval()
    by_hand = [
        train.evaluate(model, data.shift_images(split.test_images, dx, dy), split.test_labels)
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))
    ]
    assert math.isclose(train.shifted_accuracy(model, *split.test), sum(by_hand) / 4)


def test_an_ablation_run_trains_and_measures():
    run = train.run_ablation("all", seed=0, epochs=2)
    split = data.load_digits_split()
    assert run.config == "all" and run.seed == 0 and run.history.epochs == 2
    assert math.isclose(run.clean_accuracy, train.evaluate(run.model, *split.test))
    assert run.clean_accuracy > 0.5 and not run.model.training
    with pytest.raises(ValueError, match="config must be one of"):
        train.run_ablation("everything")
