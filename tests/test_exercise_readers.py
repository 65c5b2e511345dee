"""The exercises' small parts, each against what it should do: the answer readers' refusals word for word and
their tolerances at the edge, the mistake models (lesson 06's batch norm against batch norm computed another way,
numpy or torch's instance and layer norm; lesson 03's count mistakes and shifted log-sum-exp), every checker's
message for None, and the core's pieces (the watchdog thread, a changed argument, the order mistakes are named in).

Functions that run when the package is imported (the mistake models) are called here again: mutmut switches a
mutant on only after the import."""

from __future__ import annotations

import decimal
import fractions
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn_lessons.exercises import backward, blocks, core, counts, losses, signals, sizes, training
from cnn_lessons.exercises.answers import Number, Pair, Unreadable, Values, Whole
from cnn_lessons.exercises.core import ExerciseFailed

TEXT = "return the value itself, not text (no quotes, no f-string, no str(...))"


def refusal(answer, value) -> str:
    with pytest.raises(Unreadable) as caught:
        answer.read(value)
    assert str(caught.value) == f"{caught.value.what}: {caught.value.advice}"
    return str(caught.value)


# --- Whole ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "the bool True: a comparison gives a bool; return the number itself"),
        (
            3.0,
            "the float 3.0: a count or a size is a whole number, an int; `/` always gives a float (even 12 / 4 is "
            "3.0): use `//` (floor division), or int(...)",
        ),
        (
            2.5,
            "the float 2.5: a count or a size is a whole number; `/` gives a fraction: the formula rounds down, "
            "so use `//`",
        ),
        (
            torch.tensor(4),
            "a 0-d tensor, tensor(4): a count or a size is a plain int, not a tensor or array: take it out with "
            "`.item()`, or compute with ints",
        ),
        (
            np.array([5]),
            "a numpy array of shape (1,), [5]: a count or a size is a plain int, not a tensor or array: take it "
            "out with `.item()`, or compute with ints",
        ),
        (np.array([1, 2, 3]), "a numpy array of shape (3,), [1, 2, 3]: return one number, not 3 values"),
        (torch.tensor([1, 2]), "a tensor of shape (2,), [1, 2]: return one number, not 2 values"),
        ((1, 2), "a tuple of 2 values, (1, 2): return one number, not a tuple (`return a, b` makes a tuple)"),
        ([1], "a list of 1 value, [1]: return one number, not a list"),
        (None, "None: return a count or a size, one int"),
        ("12", f"the string '12': {TEXT}"),
        ({1, 2}, "a set ({1, 2}): a set has no order; return a list or a tensor"),
    ],
)
def test_whole_refuses_with_what_to_do(value, message):
    assert refusal(Whole(), value) == message


def test_whole_names_what_it_asks_for():
    assert refusal(Whole("the padding"), 1.5) == (
        "the float 1.5: the padding is a whole number; `/` gives a fraction: the formula rounds down, so use `//`"
    )
    assert refusal(Whole("the padding"), object) == "the function object: return the padding, one int"
    assert refusal(Whole("the padding"), torch.tensor([2.0])).endswith(
        ": the padding is a plain int, not a tensor or array: take it out with `.item()`, or compute with ints"
    )


def test_whole_takes_numpy_integers_as_ints_and_compares_and_shows_them():
    value = Whole().read(np.int64(7))
    assert value == 7 and type(value) is int
    assert Whole().equal(7, 7) and not Whole().equal(7, 8)
    assert Whole().show(12345) == "12,345" and Whole().show(-10000) == "-10,000" and Whole().show(9999) == "9999"
    assert Whole().shape_hint(1, 2) is None


def test_a_generator_is_refused_by_every_kind_of_answer():
    advice = (
        "a generator: your function uses `yield`, which makes a generator, not a result: build the values in a list "
        "and return it (or return list(...))"
    )
    for answer in (Whole(), Pair(), Values(), Number()):
        assert refusal(answer, (i for i in range(2))) == advice


# --- Pair -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (3, "a single number, 3: return both numbers as a pair: (top, bottom)"),
        (2.0, "a single number, 2.0: return both numbers as a pair: (top, bottom)"),
        (
            torch.tensor([1, 2]),
            "a tensor of shape (2,), [1, 2]: return a tuple of two plain ints, (top, bottom), not a tensor or array",
        ),
        (None, "None: return a pair (top, bottom)"),
        (True, "the bool True: return a pair (top, bottom)"),
        ((1, 2, 3), "a tuple of 3 values, (1, 2, 3): (top, bottom) has two numbers"),
        ([1.0, 2], "floats, (1.0, 2): these are counts of zeros, whole numbers; `/` always gives a float: use `//`"),
        (
            (1, "2"),
            f"a tuple of 2 values, (1, '2'): each number of (top, bottom) must be an int (the string '2': {TEXT})",
        ),
        ("1, 2", f"the string '1, 2': {TEXT}"),
    ],
)
def test_pair_refuses_with_what_to_do(value, message):
    assert refusal(Pair(("top", "bottom")), value) == message


def test_pair_names_left_and_right_by_default_and_reads_shows_compares():
    assert refusal(Pair(), None) == "None: return a pair (left, right)"
    assert refusal(Pair(), (1, None)) == (
        "a tuple of 2 values, (1, None): each number of (left, right) must be an int (None: return a count or a "
        "size, one int)"
    )
    value = Pair().read([np.int64(1), 2])
    assert value == (1, 2) and type(value) is tuple and all(type(v) is int for v in value)
    assert Pair().show([1, 2]) == "(1, 2)"
    assert Pair().equal([1, 2], (1, 2)) and not Pair().equal((1, 2), (2, 1))
    assert Pair().shape_hint((1, 2), (1, 2)) is None


# --- Values -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (3, "the int 3: one value per position is expected: return them all in a list or tensor"),
        (np.float64(0.5), "the float 0.5: one value per position is expected: return them all in a list or tensor"),
        (None, "None: return a list or a tensor of numbers"),
        (np.array(["a"]), "a numpy array of shape (1,), ['a']: the array must hold numbers"),
        (
            [[1, 2], [3]],
            "a list of 2 values, [[1, 2], [3]]: its rows have different shapes ((2,), (1,), ...); they must match",
        ),
        (torch.tensor([1j]), "a tensor of shape (1,), [1j]: the values are real numbers"),
    ],
)
def test_values_refuse_with_what_to_do(value, message):
    assert refusal(Values(), value) == message


def test_values_name_what_is_not_a_number():
    message = refusal(Values(), [1, "x"])
    assert message.startswith("a list of 2 values, [1, 'x']: it must hold numbers only (") and message.endswith(")")
    assert len(message) > len("a list of 2 values, [1, 'x']: it must hold numbers only ()")


def test_values_read_nested_lists_of_tensors_arrays_and_numbers_as_float64():
    got = Values().read([[1, 2], np.array([3, 4]), (torch.tensor(5), 6.5)])
    assert got.dtype == torch.float64 and got.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.5]]
    got = Values().read([torch.tensor([1.5]), np.array([2]), 3])  # one-element tensors and arrays among numbers
    assert got.dtype == torch.float64 and got.tolist() == [1.5, 2.0, 3.0]
    got = Values().read(np.array([1, 2], dtype=np.int32))
    assert got.dtype == torch.float64 and got.tolist() == [1.0, 2.0]
    got = Values().read(torch.tensor([1.5], dtype=torch.float32, requires_grad=True))
    assert got.dtype == torch.float64 and not got.requires_grad and got.tolist() == [1.5]


def test_values_compare_within_their_tolerances():
    values = Values()
    assert values.equal([1.0, 2.0], torch.tensor([1.0, 2.0]))
    assert values.equal([1.0], [1.0 + 5e-6]) and not values.equal([1.0], [1.0 + 5e-5])  # rtol 1e-5
    assert values.equal([0.0], [5e-9]) and not values.equal([0.0], [5e-8])  # atol 1e-8
    assert not values.equal([1.0, 2.0], [[1.0, 2.0]])
    assert values.equal([float("nan")], [float("nan")])
    strict = Values(rtol=0.0, atol=0.25)
    assert strict.equal([10.0], [10.2]) and not strict.equal([10.0], [10.3])
    relative = Values(rtol=0.1, atol=0.0)
    assert relative.equal([10.0], [10.9]) and not relative.equal([10.0], [11.2])


def test_values_show_as_lists_shortened_after_300_characters():
    assert Values().show([1, 2]) == "[1.0, 2.0]"
    assert Values().show(torch.tensor([[1, 2]])) == "[[1.0, 2.0]]"
    numbers = [float(i) for i in range(100)]
    text = "[" + ", ".join(repr(n) for n in numbers) + "]"
    assert len(text) > 300
    assert Values().show(numbers) == text[:295] + " ...]"
    assert Values().show(numbers, precise=True) == text[:295] + " ...]"


def test_values_explain_an_extra_or_a_missing_axis_of_size_1():
    values = Values()
    right = torch.tensor([1.0, 2.0, 3.0])
    assert values.shape_hint(right.reshape(1, 3), right) == (
        "these are the right values, but with shape (1, 3) instead of (3,): an extra axis of size 1 (from [[...]], "
        "or the batch and channel axes of F.conv...); take it away with `.squeeze()` or by indexing it, e.g. `[0]`"
    )
    assert values.shape_hint(right, right.reshape(3, 1)) == (
        "these are the right values, but with shape (3,): `.reshape(3, 1)` them"
    )
    assert values.shape_hint(right.reshape(1, 3), right.reshape(3, 1)) == (
        "these are the right values, but with shape (1, 3): `.reshape(3, 1)` them"
    )
    assert values.shape_hint(right, [1.0, 2.0, 3.0]) is None
    assert values.shape_hint(right.reshape(1, 3) + 1, right) is None  # an extra axis, but other values
    assert values.shape_hint(right[:2].reshape(1, 2), right) is None  # other values, other shape


# --- Number -----------------------------------------------------------------------------------------------------


def test_number_refuses_a_bool_and_reads_any_real_number():
    message = "a comparison gives a bool; return the number itself"
    assert refusal(Number(), True) == f"the bool True: {message}"
    assert refusal(Number(), np.bool_(False)).endswith(f": {message}")
    assert refusal(Number(), 1 + 2j) == "a complex ((1+2j)): return a list or a tensor of numbers"
    assert refusal(Number(), "0.5") == f"the string '0.5': {TEXT}"
    for value in (fractions.Fraction(1, 4), decimal.Decimal("0.25"), np.float32(0.25), 0.25):
        got = Number().read(value)
        assert got.dtype == torch.float64 and got.shape == () and got.item() == 0.25
    got = Number().read([0.5, 1.5])  # read, to be explained as too many values
    assert got.tolist() == [0.5, 1.5]


def test_number_compares_within_its_tolerances():
    number = Number()
    assert number.equal(1.0, 1.0 + 5e-7) and not number.equal(1.0, 1.0 + 5e-6)  # rtol 1e-6
    assert number.equal(0.0, 5e-10) and not number.equal(0.0, 5e-9)  # atol 1e-9
    assert number.equal(torch.tensor([2.0]), 2.0)  # one value, whatever its shape
    assert Number(rtol=0.0, atol=0.25).equal(10.0, 10.2) and not Number(rtol=0.0, atol=0.25).equal(10.0, 10.3)
    assert Number(rtol=0.1, atol=0.0).equal(10.0, 10.9) and not Number(rtol=0.1, atol=0.0).equal(10.0, 11.2)
    assert number.equal([1.0, 2.0], [1.0, 2.0]) and not number.equal([1.0, 2.0], [1.0, 3.0])
    assert not number.equal([1.0, 2.0], [[1.0, 2.0]])
    assert number.equal(float("nan"), float("nan")) and number.equal([float("nan"), 1.0], [float("nan"), 1.0])


def test_number_shows_six_digits_or_ten_and_counts_more_values():
    assert Number().show(1 / 3) == "0.333333"
    assert Number().show(1 / 3, precise=True) == "0.3333333333"
    assert Number().show([1, 2]) == "2 values, [1.0, 2.0]"
    assert Number().shape_hint(torch.tensor([1.0, 2.0]), 1.0) == "the answer is one number; yours has 2 (shape (2,))"
    assert Number().shape_hint(torch.tensor([1.0]), 1.0) is None


# --- batch norm's mistake models, against batch norm computed another way -----------------------------------------


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3, 2, 5)) * np.array([1.0, 3.0, 0.5]).reshape(1, 3, 1, 1)
    x = x + np.array([2.0, -4.0, 7.0]).reshape(1, 3, 1, 1)
    return {
        "x": torch.tensor(x),
        "weight": torch.tensor([1.5, -0.5, 2.0], dtype=torch.float64),
        "bias": torch.tensor([0.25, 1.0, -3.0], dtype=torch.float64),
        "eps": 0.3,  # large enough that where eps goes shows
    }


def numpy_norm(x, axes, ddof=0, eps=0.0, eps_outside=False):
    x = np.asarray(x)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    return (x - mean) / (np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps))


def affine(y, weight, bias):
    return torch.as_tensor(y) * weight.reshape(1, -1, 1, 1) + bias.reshape(1, -1, 1, 1)


def close(a, b):
    return torch.allclose(torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64))


def test_the_default_mistake_model_is_batch_norm_itself(batch):
    x, w, b, eps = batch["x"], batch["weight"], batch["bias"], batch["eps"]
    right = F.batch_norm(x, None, None, weight=w, bias=b, training=True, eps=eps)
    assert close(training._batch_norm_with()(**batch), right)
    assert close(affine(numpy_norm(x, (0, 2, 3), eps=eps), w, b), right)  # the numpy form agrees


def test_each_batch_norm_mistake_model_computes_what_its_hint_names(batch):
    x, w, b, eps = batch["x"], batch["weight"], batch["bias"], batch["eps"]
    model = training._batch_norm_with
    assert close(model(unbiased=True)(**batch), affine(numpy_norm(x, (0, 2, 3), ddof=1, eps=eps), w, b))
    assert close(model(dims=(0, 1, 2, 3))(**batch), affine(numpy_norm(x, (0, 1, 2, 3), eps=eps), w, b))
    assert close(model(dims=(2, 3))(**batch), F.instance_norm(x, weight=w, bias=b, eps=eps))
    assert close(model(dims=(0,))(**batch), affine(numpy_norm(x, (0,), eps=eps), w, b))
    assert close(model(dims=(1, 2, 3))(**batch), affine(F.layer_norm(x, x.shape[1:], eps=eps), w, b))
    assert close(model(eps_inside=False)(**batch), affine(numpy_norm(x, (0, 2, 3), eps=eps, eps_outside=True), w, b))
    assert close(model(affine=False)(**batch), F.batch_norm(x, None, None, training=True, eps=eps))
    assert close(model(swap=True)(**batch), F.batch_norm(x, None, None, weight=b, bias=w, training=True, eps=eps))
    # each is another answer than batch norm's
    right = F.batch_norm(x, None, None, weight=w, bias=b, training=True, eps=eps)
    for mistaken in (
        model(unbiased=True),
        model(dims=(0, 1, 2, 3)),
        model(dims=(2, 3)),
        model(dims=(0,)),
        model(dims=(1, 2, 3)),
        model(eps_inside=False),
        model(affine=False),
        model(swap=True),
    ):
        assert not close(mistaken(**batch), right)


def test_eps_left_out_and_divided_by_the_variance(batch):
    x, w, b, eps = batch["x"], batch["weight"], batch["bias"], batch["eps"]
    assert close(training._eps_left_out(**batch), affine(numpy_norm(x, (0, 2, 3)), w, b))
    centred = np.asarray(x) - np.asarray(x).mean(axis=(0, 2, 3), keepdims=True)
    by_variance = centred / (np.asarray(x).var(axis=(0, 2, 3), keepdims=True) + eps)
    assert close(training._divided_by_variance(**batch), affine(by_variance, w, b))
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = x.var(dim=(0, 2, 3), keepdim=True, unbiased=False)
    assert close(training._normalised(x, mean, var, w, b), affine(numpy_norm(x, (0, 2, 3)), w, b))


# --- every checker names itself and the function it checks when it is given something else ----------------------

CHECKED = [  # (checker, the function's name in the lesson)
    (sizes.check_output_size, "output_size"),
    (sizes.check_same_padding, "same_padding"),
    (sizes.check_transposed_output_size, "transposed_size"),
    (sizes.check_receptive_field, "receptive_field"),
    (sizes.check_flatten_size, "flatten_size"),
    (signals.check_correlate1d, "correlate1d"),
    (signals.check_convolve2d, "convolve2d"),
    (losses.check_cross_entropy, "cross_entropy"),
    (counts.check_conv_parameter_count, "parameters"),
    (counts.check_dense_vs_conv, "dense_vs_conv"),
    (blocks.check_bottleneck_parameters, "bottleneck_parameters"),
    (blocks.check_separable_ratio, "separable_ratio"),
    (blocks.check_dense_block_channels, "dense_block_channels"),
    (backward.check_output_padding, "output_padding"),
    (backward.check_input_gradient, "input_gradient"),
    (backward.check_overlap_counts, "overlap_counts"),
    (training.check_batch_norm, "batch_norm"),
    (training.check_dropout, "dropout"),
    (training.check_init_bound, "init_bound"),
]


@pytest.mark.parametrize(("checker", "name"), CHECKED, ids=[name for _, name in CHECKED])
def test_a_checker_given_none_names_itself_and_the_function_it_checks(checker, name):
    # the message for a value is tested for every checker in test_exercises.py; here the function's own name
    with pytest.raises(ExerciseFailed) as caught:
        checker(None)
    assert (
        str(caught.value) == f"{checker.__name__} checks a function, e.g. {checker.__name__}({name}); it was given None"
    )


# --- lesson 03's pair of counts, and the mistakes read from one number of it ----------------------------------------


def test_the_counts_pair_is_named_dense_then_conv_and_written_with_separators():
    assert refusal(counts.Counts(), 5) == "a single number, 5: return both numbers as a pair: (dense, conv)"
    assert refusal(counts.Counts(), (1, 2, 3)) == "a tuple of 3 values, (1, 2, 3): (dense, conv) has two numbers"
    assert refusal(counts.Counts(), [12.0, 3]) == (
        "floats, (12.0, 3): parameter counts are whole numbers, ints; `/` always gives a float (even 12 / 4 is "
        "3.0): use `//`, or multiply and add only"
    )
    assert counts.Counts().read([np.int64(3), 4]) == (3, 4)
    assert counts.Counts().show((1234567, 84)) == "(1,234,567, 84)"
    assert counts.Counts().show((1234567, 84), precise=True) == "(1,234,567, 84)"


def test_a_count_mistake_is_read_from_its_own_number_of_the_pair_only():
    case = {"height": 2, "width": 3, "in_channels": 4, "out_channels": 5, "kernel_size": 1}
    seen = []

    def formula(i, o, h, w, k):
        seen.append((i, o, h, w, k))
        return 999

    dense, conv = counts._dense(formula), counts._conv(formula)
    expected = (10, 20)
    assert dense(case, (999, 20), expected) and not dense(case, (10, 999), expected)
    assert conv(case, (10, 999), expected) and not conv(case, (999, 20), expected)
    assert not dense(case, (998, 20), expected) and not conv(case, (10, 998), expected)  # wrong, another way
    assert seen and set(seen) == {(4, 5, 2, 3, 1)}
    # a right number is no mistake, even where the formula gives it too
    assert not counts._dense(lambda i, o, h, w, k: 10)(case, (10, 20), expected)
    assert not counts._conv(lambda i, o, h, w, k: 20)(case, (10, 20), expected)


def test_only_a_real_number_can_be_a_padding_given_as_one_number():
    assert sizes._is_number(3) and sizes._is_number(2.5)
    assert not sizes._is_number(True) and not sizes._is_number("3") and not sizes._is_number(None)
    assert not sizes._is_number((1, 2))


def test_the_forward_windows_over_each_input_position():
    def windows(size, kernel_size, stride):  # by hand: the starts 0, stride, ... while a window fits
        count = [0] * size
        start = 0
        while start + kernel_size <= size:
            for i in range(start, start + kernel_size):
                count[i] += 1
            start += stride
        return count

    for size, kernel_size, stride in [(3, 3, 1), (4, 4, 2), (5, 3, 1), (7, 2, 3), (6, 1, 2), (1, 1, 1)]:
        got = backward._forward_windows(size, kernel_size, stride)
        assert got.dtype == torch.float64 and got.tolist() == windows(size, kernel_size, stride)
    assert backward._forward_windows(3, 3, 1).tolist() == [1.0, 1.0, 1.0], "a kernel as long as the input: one window"
    assert backward._forward_windows(2, 3, 1) is None


# --- the core's small parts ---------------------------------------------------------------------------------------


def test_the_time_limits_watchdog_ends_with_its_block():
    with core.TimeLimit(5) as limit:
        assert limit.call(lambda a, b: a + b, (2, 3)) == 5
        watchdog = limit._thread
        assert watchdog.is_alive()
    watchdog.join(timeout=5)
    assert not watchdog.is_alive(), "a watchdog left waiting for a call that never comes"


def test_the_time_limit_is_raised_again_after_the_student_catches_it_once():
    def catches_once(signal, kernel):
        try:
            while True:
                pass
        except BaseException:  # even a bare except: the watchdog raises again 0.2 s later
            pass
        while True:
            pass

    start = time.monotonic()
    with pytest.raises(ExerciseFailed, match=r"did not return within 0\.2 s"):
        signals.check_correlate1d(catches_once, time_limit=0.2)
    assert time.monotonic() - start < 10


def test_an_argument_counts_as_changed_when_its_kind_changes_or_it_cannot_be_compared():
    assert core._same([1, 2], [1, 2]) and core._same(torch.tensor([1.0]), torch.tensor([1.0]))
    assert not core._same([1, 2], [torch.tensor(1), 2]), "a number replaced by a tensor of it"
    assert not core._same(torch.tensor(1.0), 1.0) and not core._same(1.0, torch.tensor(1.0))
    assert not core._same([1], np.array([1])) and not core._same(np.array([1]), [1])
    assert not core._same([1, 2], (1, 2))

    class Uncomparable:
        def __eq__(self, other):
            raise TypeError("no comparing")

    assert not core._same(Uncomparable(), Uncomparable())


def test_a_case_shows_a_0d_tensor_as_its_number():
    assert core.show_case({"p": torch.tensor(0.5), "k": torch.tensor([1, 2]), "n": 3}) == "p=0.5, k=[1, 2], n=3"


def test_two_cases_are_counted_like_more():
    exercise = core.Exercise("double", [{"n": 1}, {"n": 2}], lambda n: 2 * n, Whole(), "double it.")
    with pytest.raises(ExerciseFailed) as caught:
        core.check_function(exercise, lambda n: 2 * n + 1, "check_double", time_limit=2)
    assert str(caught.value) == "for n=1: expected 2, got 3 (2 of 2 cases wrong, off by +1). Hint: double it."


def test_the_mistake_that_explains_every_answer_is_named_before_one_that_explains_the_first():
    raw_only = core.Mistake("that is text", raw=lambda case, value, expected: isinstance(value, str))
    first_only = core.Mistake("only the first", gives=lambda n: 1 if n == 1 else -5)
    every = core.Mistake("you forgot to double", gives=lambda n: n)
    exercise = core.Exercise(
        "double", [{"n": n} for n in (1, 2, 3)], lambda n: 2 * n, Whole(), "double it.", (raw_only, first_only, every)
    )
    with pytest.raises(ExerciseFailed) as caught:
        core.check_function(exercise, lambda n: n, "check_double", time_limit=2)
    assert str(caught.value) == (
        "for n=1: expected 2, got 1 (3 of 3 cases wrong, off by -1). Hint: you forgot to double."
    )


# --- lesson 03's cross-entropy: the shifted log-sum-exp and the float32 test ------------------------------------------


def test_a_log_sum_exp_shifted_by_each_rows_maximum_and_added_back_is_cross_entropy():
    logits = torch.tensor([[1000.0, 0.0, -5.0], [10.0, 1010.0, 1000.0]], dtype=torch.float64)
    labels = torch.tensor([0, 2])
    rows = logits.max(dim=1, keepdim=True).values
    torch.testing.assert_close(losses._shifted_by(logits, labels, rows), F.cross_entropy(logits, labels))
    # by hand: row 0 is right by far (loss about exp(-1000)); row 1 misses by 10 (loss 10 + log(1 + exp(-10)))
    torch.testing.assert_close(
        losses._shifted_by(logits, labels, rows), torch.tensor((0.0 + 10 + np.log1p(np.exp(-10))) / 2).double()
    )
    # not added back: each row's loss is its maximum too small, 1000 and 1010 - 10
    no_back = losses._shifted_by(logits, labels, rows, add_back=False)
    torch.testing.assert_close(no_back, torch.tensor((-1000 + (10 + np.log1p(np.exp(-10)) - 1010)) / 2).double())


def test_float32_rounding_is_an_error_within_a_ten_thousandth_of_the_loss_or_of_1():
    case = {}
    near = losses._float32_rounding
    assert near(case, torch.tensor(1000.09, dtype=torch.float64), torch.tensor(1000.0, dtype=torch.float64))
    assert not near(case, torch.tensor(1000.11, dtype=torch.float64), torch.tensor(1000.0, dtype=torch.float64))
    # below 1 the bound is 1e-4 itself, reached exactly here
    assert near(case, torch.tensor(1e-4, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64))
    assert not near(case, torch.tensor(0.5 + 1.5e-4, dtype=torch.float64), torch.tensor(0.5, dtype=torch.float64))
    assert not near(case, torch.tensor(float("inf")), torch.tensor(1.0, dtype=torch.float64))
    assert not near(case, torch.tensor([1.0, 1.0], dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
