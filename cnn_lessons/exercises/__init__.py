"""Checkers for the lessons' exercises: run the student's answer on many cases and say exactly what is off.

Each ``check_*`` function prints one line when everything is right and raises :class:`ExerciseFailed` (an
``AssertionError``) with the failing case, what was expected, what came back and a hint otherwise; it raises
nothing else, whatever the student's function does (returns None or text, raises, changes its inputs, never
returns). The reference answers come from :mod:`cnn_lessons.arithmetic`, :mod:`cnn_lessons.ops` and torch,
which the project's tests check against PyTorch.

The modules: :mod:`.core` runs every checker (expected values first, on copies; the student's function on its own
copy, under a time limit; the named mistakes of an exercise tried before its general hint), :mod:`.answers` reads
what came back (one int, a pair, a tensor, one number) and says what is wrong with it before any arithmetic, and
one module per concept holds the exercises: :mod:`.signals` (sliding kernels), :mod:`.sizes` (sizes and
receptive fields), :mod:`.counts` (parameter counts), :mod:`.losses` (cross-entropy), :mod:`.blocks` (lesson
04's building blocks). A new exercise is an :class:`~cnn_lessons.exercises.core.Exercise` (cases, a reference,
the kind of answer, its named mistakes) in the module of its concept and a ``check_*`` function calling
``check_function`` or ``check_value``; add the function below.

In a lesson, an exercise is a cell tagged ``solution`` (the stored notebooks show it solved; ``cnn-lessons
student-copy`` replaces the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` with a starter) followed
by a cell calling the checker.
"""

from cnn_lessons.exercises.backward import check_input_gradient, check_output_padding, check_overlap_counts
from cnn_lessons.exercises.blocks import (
    check_bottleneck_parameters,
    check_dense_block_channels,
    check_separable_ratio,
)
from cnn_lessons.exercises.core import TIME_LIMIT, ExerciseFailed
from cnn_lessons.exercises.counts import check_conv_parameter_count, check_dense_vs_conv
from cnn_lessons.exercises.losses import check_cross_entropy
from cnn_lessons.exercises.signals import check_convolve2d, check_correlate1d, check_flipped_kernel
from cnn_lessons.exercises.sizes import (
    check_flatten_size,
    check_output_size,
    check_receptive_field,
    check_same_padding,
    check_transposed_output_size,
)
from cnn_lessons.exercises.training import check_batch_norm, check_dropout, check_init_bound

__all__ = [
    "ExerciseFailed",
    "TIME_LIMIT",
    "check_correlate1d",
    "check_convolve2d",
    "check_flipped_kernel",
    "check_output_size",
    "check_same_padding",
    "check_transposed_output_size",
    "check_conv_parameter_count",
    "check_dense_vs_conv",
    "check_receptive_field",
    "check_flatten_size",
    "check_cross_entropy",
    "check_batch_norm",
    "check_dropout",
    "check_init_bound",
    "check_bottleneck_parameters",
    "check_separable_ratio",
    "check_dense_block_channels",
    "check_output_padding",
    "check_input_gradient",
    "check_overlap_counts",
]
