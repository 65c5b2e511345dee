"""The checking core of the exercises: expected values first, on copies; a time limit; teaching messages for
answers of the wrong kind; named mistakes before the general hint. Each point of issue 18 has a test here; the
classes of student answers per exercise are in test_exercise_answers.py."""

import math
import re
import threading
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnn_lessons import exercises
from cnn_lessons.exercises import ExerciseFailed, answers, sizes
from cnn_lessons.exercises.core import TimeLimit
from cnn_lessons.models import SimpleCNN

CHECKERS = [
    exercises.check_correlate1d,
    exercises.check_convolve2d,
    exercises.check_output_size,
    exercises.check_same_padding,
    exercises.check_transposed_output_size,
    exercises.check_conv_parameter_count,
    exercises.check_flatten_size,
    exercises.check_cross_entropy,
    exercises.check_receptive_field,
]


def correlate1d(signal, kernel):
    n, k = len(signal), len(kernel)
    return [sum(signal[i + j] * kernel[j] for j in range(k)) for i in range(n - k + 1)]


def stable_cross_entropy(logits, labels):
    top = logits.max(dim=1, keepdim=True).values
    log_sum = top[:, 0] + (logits - top).exp().sum(dim=1).log()
    return (log_sum - logits[torch.arange(len(labels)), labels]).mean()


def receptive_field(layers):
    field, jump = 1, 1
    for kernel_size, stride in layers:
        field, jump = field + (kernel_size - 1) * jump, jump * stride
    return field


def test_the_lessons_solutions_pass_with_the_lines_the_lessons_store(capsys):
    """The stored notebooks show these lines; the checkers must still print them, word for word."""
    exercises.check_correlate1d(correlate1d)
    exercises.check_convolve2d(lambda image, kernel: F.conv2d(image[None, None], kernel.flip(0, 1)[None, None])[0, 0])
    exercises.check_flipped_kernel([[4, 3], [2, 1]])
    exercises.check_output_size(lambda i, k, s, p, d: (i + 2 * p - d * (k - 1) - 1) // s + 1)
    exercises.check_same_padding(lambda k, d: (d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2))
    exercises.check_transposed_output_size(lambda i, k, s, p, a: s * (i - 1) + a + k - 2 * p)
    exercises.check_conv_parameter_count(lambda i, o, k, b, g: (i // g * k * k + int(b)) * o)
    exercises.check_flatten_size(
        lambda size, ch, k, p, pool: ch[-1] * (sizes.flatten_trace(size, ch, k, p, pool)[0] // ch[-1])
    )
    exercises.check_cross_entropy(stable_cross_entropy)
    exercises.check_receptive_field(receptive_field)
    assert capsys.readouterr().out.splitlines() == [
        "\u2713 correlate1d: correct on all 40 cases",
        "\u2713 convolve2d: correct on all 30 cases",
        "\u2713 correlating with [[4, 3], [2, 1]] convolves with [[1, 2], [3, 4]]",
        "\u2713 output_size: correct on all 624 cases",
        "\u2713 same_padding: correct on all 28 cases",
        "\u2713 transposed_size: correct on all 393 cases",
        "\u2713 parameters: correct on all 144 cases",
        "\u2713 flatten_size: correct on all 178 cases",
        "\u2713 cross_entropy: correct on all 23 cases, including logits of \u00b11000",
        "\u2713 receptive_field: correct on all 43 cases",
    ]


# --- the references agree with torch ---------------------------------------------------------------------------


def test_the_references_agree_with_torch():
    for case in exercises.signals.signal_cases():
        torch_answer = F.conv1d(case["signal"][None, None], case["kernel"][None, None])[0, 0]
        assert torch.allclose(exercises.signals.CORRELATE1D.reference(**case), torch_answer)
    for case in exercises.signals.image_cases():
        torch_answer = F.conv2d(case["image"][None, None], case["kernel"].flip(0, 1)[None, None])[0, 0]
        assert torch.allclose(exercises.signals.CONVOLVE2D.reference(**case), torch_answer)
    for case in sizes.size_cases():
        x, w = torch.zeros(1, 1, case["size"]), torch.zeros(1, 1, case["kernel_size"])
        out = F.conv1d(x, w, stride=case["stride"], padding=case["padding"], dilation=case["dilation"])
        assert sizes.OUTPUT_SIZE.reference(**case) == out.shape[-1]
    for case in sizes.transposed_cases(dilation=True):
        x, w = torch.zeros(1, 1, case["size"]), torch.zeros(1, 1, case["kernel_size"])
        options = {k: case[k] for k in ("stride", "padding", "output_padding", "dilation")}
        assert sizes.TRANSPOSED_SIZE_DILATED.reference(**case) == F.conv_transpose1d(x, w, **options).shape[-1]
    for case in exercises.counts.parameter_cases():
        layer = torch.nn.Conv2d(*list(case.values())[:3], bias=case["bias"], groups=case["groups"])
        assert exercises.counts.CONV_PARAMETERS.reference(**case) == sum(p.numel() for p in layer.parameters())


def test_the_flatten_sizes_are_what_simple_cnn_builds():
    for case in sizes.flatten_cases():
        model = SimpleCNN(
            in_channels=1,
            conv_channels=case["conv_channels"],
            kernel_size=case["kernel_size"],
            padding=case["padding"],
            pool=case["pool"],
            input_size=case["size"],
        )
        assert sizes.flatten_trace(**case)[0] == model.flatten_size


def never_returns(signal, kernel):
    while True:
        pass


def test_a_function_that_never_returns_is_stopped_with_a_message():
    start = time.monotonic()
    with pytest.raises(ExerciseFailed, match=r"did not return within 0.2 s: does a loop never end\?"):
        exercises.check_correlate1d(never_returns, time_limit=0.2)
    assert time.monotonic() - start < 5


def test_the_student_cannot_catch_the_time_limit_with_except_exception():
    def swallows(signal, kernel):
        while True:
            try:
                while True:
                    pass
            except Exception:
                pass

    with pytest.raises(ExerciseFailed, match="did not return within"):
        exercises.check_correlate1d(swallows, time_limit=0.2)


def test_the_time_limit_leaves_nothing_behind():
    with pytest.raises(ExerciseFailed):
        exercises.check_correlate1d(never_returns, time_limit=0.1)
    end, spins = time.monotonic() + 0.6, 0
    while time.monotonic() < end:  # a stray exception would land here
        spins += 1
    assert spins > 0
    exercises.check_correlate1d(correlate1d, time_limit=0.2)


def test_the_time_limit_works_outside_the_main_thread():
    messages = []

    def run():
        try:
            exercises.check_output_size(lambda i, k, s, p, d: never_returns(i, k), time_limit=0.2)
        except ExerciseFailed as failure:
            messages.append(str(failure))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    assert not thread.is_alive() and "did not return within" in messages[0]


def test_time_limit_returns_what_the_call_returns():
    with TimeLimit(1.0) as limit:
        assert [limit.call(pow, (2, n)) for n in range(5)] == [1, 2, 4, 8, 16]


# --- expected values first, on copies --------------------------------------------------------------------------


def test_a_correlation_that_flips_its_kernel_in_place_is_rejected():
    def flips_in_place(signal, kernel):
        kernel[:] = kernel.flip(0)
        return F.conv1d(signal[None, None], kernel[None, None])[0, 0]

    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_correlate1d(flips_in_place)
    text = str(caught.value)
    assert "you flipped the kernel: that is convolution" in text
    assert "changed its argument `kernel` too (from [1.0, 2.0, -1.0] to [-1.0, 2.0, 1.0])" in text


def test_a_convolution_that_flips_its_kernel_in_place_is_accepted_with_a_note(capsys):
    def flips_in_place(image, kernel):
        kernel[:] = kernel.flip(0, 1)
        return F.conv2d(image[None, None], kernel[None, None])[0, 0]

    exercises.check_convolve2d(flips_in_place)
    out = capsys.readouterr().out
    assert out.startswith("\u2713 convolve2d: correct on all 30 cases")
    assert "note: your function changed its argument `kernel`" in out


@pytest.mark.parametrize("consume", ["pop", "reverse"])
def test_a_receptive_field_that_consumes_its_layers_is_accepted(consume, capsys):
    def pops(layers):
        field, jump = 1, 1
        while layers:
            kernel_size, stride = layers.pop(0)
            field, jump = field + (kernel_size - 1) * jump, jump * stride
        return field

    def reverses(layers):
        layers.reverse()
        field = 1
        for kernel_size, stride in layers:
            field = stride * field + kernel_size - stride
        return field

    exercises.check_receptive_field(pops if consume == "pop" else reverses)
    out = capsys.readouterr().out
    assert out.startswith("\u2713 receptive_field: correct on all 43 cases")
    assert "changed its argument `layers`" in out


# --- answers of the wrong kind: a message, before any arithmetic -----------------------------------------------


@pytest.mark.parametrize("check", CHECKERS, ids=lambda c: c.__name__)
def test_every_checker_explains_none_a_starter_and_a_crash(check):
    arity = {exercises.check_correlate1d: 2, exercises.check_convolve2d: 2, exercises.check_same_padding: 2}
    arity |= {exercises.check_cross_entropy: 2, exercises.check_receptive_field: 1}
    arity = arity.get(check, 5)
    calls = []

    def forgets_return(*args):
        calls.append(args)
        print("computed")

    def starter(*args):
        raise NotImplementedError("your code here")

    def crashes(*args):
        return len(args) // 0

    with pytest.raises(ExerciseFailed, match=r"returned None: did you forget `return`\?"):
        check(_with_arity(forgets_return, arity))
    assert len(calls) == 1, "after a None the checker says so at once"
    with pytest.raises(ExerciseFailed, match="is not written yet: replace the `raise NotImplementedError`"):
        check(_with_arity(starter, arity))
    with pytest.raises(ExerciseFailed, match="raised ZeroDivisionError: integer division or modulo by zero"):
        check(_with_arity(crashes, arity))


def _with_arity(function, arity):
    return {
        1: lambda a: function(a),
        2: lambda a, b: function(a, b),
        5: lambda a, b, c, d, e: function(a, b, c, d, e),
    }[arity]


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda i, k, s, p, d: None, "returned None: did you forget `return`?"),
        (lambda i, k, s, p, d: "3", "the string '3'"),
        (lambda i, k, s, p, d: (3, 3), "not a tuple (`return a, b` makes a tuple)"),
        (lambda i, k, s, p, d: torch.tensor(3), ".item()"),
        (lambda i, k, s, p, d: [3], "not a list"),
        (lambda i, k, s, p, d: True, "the bool True"),
        (lambda i, k, s, p, d: 2.5, "`/` gives a fraction"),
    ],
)
def test_an_int_exercise_says_what_came_back_and_what_was_expected(answer, words):
    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_output_size(answer)
    assert words in str(caught.value)


def test_a_function_given_as_its_result_or_with_other_parameters_is_explained():
    with pytest.raises(ExerciseFailed, match="pass the function itself, without calling it"):
        exercises.check_same_padding((1, 1))
    with pytest.raises(ExerciseFailed, match=re.escape("calls same_padding(kernel_size, dilation) with 2 arguments")):
        exercises.check_same_padding(lambda kernel_size: (0, 0))


def test_value_starters_say_they_are_not_written_yet():
    with pytest.raises(ExerciseFailed, match="`answer` is not written yet"):
        exercises.check_flipped_kernel(...)


def test_a_value_answer_is_not_given_away():
    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_flipped_kernel("4 3 2 1")
    assert "[4.0, 3.0]" not in str(caught.value) and "[4, 3]" not in str(caught.value)


# --- the misleading hints of the issue, and the mistakes it asked to name --------------------------------------


def test_cross_entropy_shifted_by_the_batch_maximum_is_caught():
    def batch_max(logits, labels):
        top = logits.max()
        log_sum = top + (logits - top).exp().sum(dim=1).log()
        return (log_sum - logits[torch.arange(len(labels)), labels]).mean()

    logits = torch.tensor([[1000.0, 0.0], [-1000.0, -1001.0]], dtype=torch.float64)
    by_torch = F.cross_entropy(logits, torch.tensor([0, 0])).item()
    by_hand = (0.0 + math.log(1 + math.exp(-1))) / 2  # row 1 is certain; row 2: log(1 + e^-1)
    assert f"{by_torch:.6g}" == f"{by_hand:.6g}" == "0.156631"
    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_cross_entropy(batch_max)
    assert f"expected {by_torch:.6g}, got -inf" in str(caught.value)
    assert "each row needs its own maximum" in str(caught.value)


def test_cross_entropy_in_float32_is_told_about_precision():
    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_cross_entropy(lambda logits, labels: stable_cross_entropy(logits.float(), labels))
    assert "precision" in str(caught.value) and "float32" in str(caught.value)


def test_same_padding_in_floats_is_told_about_floats_not_the_split():
    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_same_padding(lambda k, d: (d * (k - 1) / 2, d * (k - 1) / 2))
    assert "floats" in str(caught.value) and "smaller half" not in str(caught.value)


def test_same_padding_as_one_number_is_told_to_return_a_pair():
    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_same_padding(lambda k, d: d * (k - 1))
    assert "a single number" in str(caught.value) and "split it into the pair (left, right)" in str(caught.value)
    assert "the total must be" not in str(caught.value)


def test_one_sided_padding_in_flatten_size_is_named_as_such():
    def one_side(size, conv_channels, kernel_size, padding, pool):
        for _ in conv_channels:
            size = size + padding - kernel_size + 1
            if pool is not None:
                size //= pool
        return conv_channels[-1] * size * size

    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_flatten_size(one_side)
    assert "padding adds p zeros on EACH side" in str(caught.value)
    assert "padding adds zeros around the map" not in str(caught.value)


def test_correlate1d_with_an_extra_axis_is_told_so():
    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_correlate1d(lambda signal, kernel: [correlate1d(signal, kernel)])
    text = str(caught.value)
    assert "the right values, but with shape (1, 6) instead of (6,)" in text and "extra axis" in text
    assert "outputs (every position" not in text


def test_transposed_size_names_six_typical_mistakes_apart():
    mistakes = [
        lambda i, k, s, p, a: s * (i - 1) + k - 2 * p,
        lambda i, k, s, p, a: (i + 2 * p - k) // s + 1,
        lambda i, k, s, p, a: s * (i - 1) + k + 2 * p + a,
        lambda i, k, s, p, a: s * i + k - 2 * p + a,
        lambda i, k, s, p, a: s * (i - 1) + k - 1 - 2 * p + a,
        lambda i, k, s, p, a, d: s * (i - 1) + k - 2 * p + a,  # forgets dilation
    ]
    hints = set()
    for wrong in mistakes:
        with pytest.raises(ExerciseFailed) as caught:
            exercises.check_transposed_output_size(wrong)
        hints.add(str(caught.value).split("Hint: ")[1].split(";")[0])
    assert len(hints) == 6, hints
    exercises.check_transposed_output_size(lambda i, k, s, p, a, d: s * (i - 1) + d * (k - 1) + 1 - 2 * p + a)


@pytest.mark.parametrize(("answer", "words"), [([[3, 4], [1, 2]], "up-down only"), ([[2, 1], [4, 3]], "left-right")])
def test_flipped_kernel_names_one_axis_flips(answer, words):
    with pytest.raises(ExerciseFailed, match=words):
        exercises.check_flipped_kernel(answer)


def test_only_the_named_public_functions_are_exported():
    assert set(exercises.__all__) >= {"ExerciseFailed", "check_output_size", "check_cross_entropy"}
    assert issubclass(ExerciseFailed, AssertionError)


# --- what mutation testing found (make mutation): the time limit reaches every checker, the words of describe ------

FUNCTION_CHECKERS = sorted(
    name for name in exercises.__all__ if name.startswith("check_") and name != "check_flipped_kernel"
)


@pytest.mark.parametrize("name", FUNCTION_CHECKERS)
def test_every_checker_passes_its_time_limit_on(name):
    def forever(*args, **kwargs):
        while True:
            pass

    with pytest.raises(exercises.ExerciseFailed, match=r"did not return within 0\.2 s: does a loop never end\?"):
        getattr(exercises, name)(forever, time_limit=0.2)  # the default limit would be named otherwise


def test_describe_says_what_a_value_is():
    cases = [
        (None, "None"),
        (True, "the bool True"),
        (3, "the int 3"),
        (np.int64(3), "the numpy integer 3"),
        (2.5, "the float 2.5"),
        ("12", "the string '12'"),
        (torch.tensor(1.5), "a 0-d tensor, tensor(1.5)"),
        (torch.tensor([1.0, 2.0]), "a tensor of shape (2,), [1.0, 2.0]"),
        (np.array([1, 2]), "a numpy array of shape (2,), [1, 2]"),
        ([1, 2], "a list of 2 values, [1, 2]"),
        ((7,), "a tuple of 1 value, (7,)"),
        ([torch.tensor(1.0)], "a list of 1 value"),  # tensors inside: their reprs are too long to show
        (len, "the function len"),
        (type("Odd", (), {"__repr__": lambda self: "odd"})(), "a Odd (odd)"),
    ]
    for value, words in cases:
        assert answers.describe(value) == words, value
    assert answers.describe(list(range(100))).endswith(" ...]") and len(answers.describe(list(range(100)))) < 130


def test_answers_show_and_read_as_the_messages_need():
    whole = answers.Whole()
    assert whole.show(12345) == "12,345" and whole.show(-10_000) == "-10,000" and whole.show(9999) == "9999"
    assert whole.show(2.5) == "2.5"
    pair = answers.Pair()
    with pytest.raises(answers.Unreadable) as caught:
        pair.read("1, 2")
    assert caught.value.advice.startswith("return the value itself, not text")
    with pytest.raises(answers.Unreadable) as caught:
        pair.read({1, 2})
    assert "has no order" in caught.value.advice
    number = answers.Number()
    assert (number.rtol, number.atol) == (1e-6, 1e-9)
    assert number.equal(float("nan"), float("nan")) and number.equal(torch.tensor([float("nan")]), [float("nan")])
    assert number.equal(1 + 1e-12, 1.0) and not number.equal(1 + 1e-4, 1.0)
    assert number.show(1 / 3) == "0.333333" and number.show(1 / 3, precise=True) == "0.3333333333"
    with pytest.raises(answers.Unreadable) as caught:
        number.read(True)
    assert caught.value.advice == "a comparison gives a bool; return the number itself"
    values = answers.Values()
    got = values.read([torch.tensor(1.5), np.float32(2.0), 3])
    assert got.dtype == torch.float64 and got.tolist() == [1.5, 2.0, 3.0]
    assert values.read(torch.tensor([1, 2], dtype=torch.int32)).dtype == torch.float64
    with pytest.raises(answers.Unreadable) as caught:
        values.read(torch.tensor([1j]))
    assert (caught.value.what, caught.value.advice) == (
        "a tensor of shape (1,), [1j]",
        "the values are real numbers",
    )


def test_the_output_size_cases_cover_the_whole_grid_where_the_kernel_fits():
    """Every (size, kernel, stride, padding, dilation) of the grid that torch accepts, so no family can go missing."""
    cases = sizes.size_cases()
    grid = [
        (i, k, s, p, d)
        for i in (1, 2, 5, 6, 7, 10, 13)
        for k in (1, 2, 3, 4)
        for s in (1, 2, 3)
        for p in (0, 1, 2)
        for d in (1, 2, 3)
    ]
    accepted = []
    for i, k, s, p, d in grid:
        try:
            F.conv1d(torch.zeros(1, 1, i), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d)
        except RuntimeError:
            continue
        accepted.append({"size": i, "kernel_size": k, "stride": s, "padding": p, "dilation": d})
    assert cases == accepted
    assert any(c["padding"] and c["dilation"] > 1 and c["stride"] > 1 for c in cases)


def test_an_answer_of_the_wrong_kind_gets_its_advice_as_a_sentence_and_the_changed_note_after_it():
    def text_and_changes(signal, kernel):
        signal[0] = 99.0
        return "text"

    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_correlate1d(text_and_changes, time_limit=1)
    message = str(caught.value)
    expected = F.conv1d(torch.tensor([[[0.0, 1, 3, 2, 0, 0, 4, 1]]]), torch.tensor([[[1.0, 2, -1]]]))[0, 0].tolist()
    assert (
        f"your function returned the string 'text'; a tensor (or list) of numbers is expected ({expected})." in message
    )
    assert (
        ". Return the value itself, not text (no quotes, no f-string, no str(...)). Your function changed its "
        in message
    )
    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_correlate1d(lambda signal, kernel: {1, 2}, time_limit=1)
    assert str(caught.value).endswith(
        "your function returned a set ({1, 2}); a tensor (or list) of numbers is "
        f"expected ({expected}). A set has no order; return a list or a tensor."
    )
