"""The checking core of the exercises: expected values first, on copies; a time limit; teaching messages for
answers of the wrong kind; named mistakes before the general hint. Each point of issue 18 has a test here; the
classes of student answers per exercise are in test_exercise_answers.py."""

import ast
import functools
import itertools
import json
import math
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnn_lessons import arithmetic, exercises
from cnn_lessons.exercises import ExerciseFailed, answers, core, sizes
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
    exercises.check_correlate1d(correlate1d, time_limit=5)  # the limit is not what this tests: no stray exception


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
    assert (
        "Hint: you flipped the kernel: that is convolution; correlation uses kernel[j] as it is. Your function changed "
        "its argument `kernel` too (from [1.0, 2.0, -1.0] to [-1.0, 2.0, 1.0])"
    ) in text


def test_a_convolution_that_flips_its_kernel_in_place_is_accepted_with_a_note(capsys):
    def flips_in_place(image, kernel):
        kernel[:] = kernel.flip(0, 1)
        return F.conv2d(image[None, None], kernel[None, None])[0, 0]

    exercises.check_convolve2d(flips_in_place)
    out = capsys.readouterr().out
    assert out.startswith("\u2713 convolve2d: correct on all 30 cases")
    assert "note: your function changed its argument `kernel` for image=[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, " in out


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


@pytest.mark.parametrize("name", FUNCTION_CHECKERS)
def test_every_checker_names_itself_when_given_a_value(name):
    with pytest.raises(exercises.ExerciseFailed) as caught:
        getattr(exercises, name)(42)
    assert re.fullmatch(
        rf"{name} checks a function, e\.g\. {name}\(\w+\); it was given the int 42: pass the function itself, "
        r"without calling it \(no parentheses after its name\)",
        str(caught.value),
    )


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
        (type("Odd", (), {"__repr__": lambda self: "odd"})(), "an Odd (odd)"),
        (type("Box", (), {"__repr__": lambda self: "box"})(), "a Box (box)"),
        (..., "Ellipsis"),
        ((n for n in range(3)), "a generator"),
        (functools.partial(max, 1), "the function functools.partial(<built-in function max>, 1)"),
    ]
    for value, words in cases:
        assert answers.describe(value) == words, value
    assert answers.describe(list(range(100))).endswith(" ...]") and len(answers.describe(list(range(100)))) < 130
    assert answers._short("x" * 100) == "x" * 100 and answers._short("x" * 101) == "x" * 95 + " ...]"


def test_answers_show_and_read_as_the_messages_need():
    whole = answers.Whole()
    assert whole.show(12345) == "12,345" and whole.show(-10_000) == "-10,000" and whole.show(9999) == "9999"
    assert whole.show(2.5) == "2.5"
    pair = answers.Pair()
    assert pair.show([1, 2]) == "(1, 2)" and pair.show((0, 3)) == "(0, 3)"
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
        "argument `signal` too (from [0.0, 1.0, 3.0, 2.0, 0.0, 0.0, 4.0, 1.0] to [99.0, 1.0, 3.0, 2.0, 0.0, 0.0, "
        "4.0, 1.0])"
    ) in message
    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_correlate1d(lambda signal, kernel: {1, 2}, time_limit=1)
    assert str(caught.value).endswith(
        "your function returned a set ({1, 2}); a tensor (or list) of numbers is "
        f"expected ({expected}). A set has no order; return a list or a tensor."
    )


# --- the case lists and the mistakes' wrappers, called directly ----------------------------------------------------
# Each exercise builds its cases when its module is imported; make mutation switches a mutant on only after that, so
# the checkers above never see a case function changed. These tests call the case functions themselves and hold
# them to what their docstrings, the lessons and torch say.

ROOT = Path(__file__).resolve().parent.parent


def stored_case_counts() -> dict[str, int]:
    """{exercise: cases} from the pass lines the stored lessons show ("correct on all 40 cases")."""
    counts = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            for output in cell.get("outputs", []):
                text = "".join(output.get("text", []))
                found = re.findall(r"\u2713 (\w+): correct on all (\d+) cases", text)
                counts.update({name: int(n) for name, n in found})
    return counts


def lesson_literal(notebook: str, name: str):
    """The literal a lesson's script assigns to ``name`` (the list inside ``torch.tensor(...)`` for a tensor)."""
    tree = ast.parse((ROOT / "notebooks" / f"{notebook}.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]:
            value = node.value.args[0] if isinstance(node.value, ast.Call) else node.value
            return ast.literal_eval(value)
    raise LookupError(f"{notebook} assigns no {name}")


def same_cases(a: list[dict], b: list[dict]) -> bool:
    """Two case lists hold the same arguments (tensors equal, with their dtype)."""
    if len(a) != len(b):
        return False
    return all(
        list(x) == list(y)
        and all(
            torch.equal(x[k], y[k]) and x[k].dtype == y[k].dtype if isinstance(x[k], torch.Tensor) else x[k] == y[k]
            for k in x
        )
        for x, y in zip(a, b, strict=True)
    )


def assert_repeatable(cases_function) -> list[dict]:
    """The cases, the same on every call (every student is checked on the same cases), in fresh tensors."""
    cases, again = cases_function(), cases_function()
    assert same_cases(cases, again), f"{cases_function.__name__} gives other cases on a second call"
    assert all(v is not again[0][k] for k, v in cases[0].items() if isinstance(v, torch.Tensor))
    return cases


def test_the_stored_lessons_count_the_cases_the_case_functions_give():
    stored = stored_case_counts()
    given = {
        "correlate1d": exercises.signals.signal_cases(),
        "convolve2d": exercises.signals.image_cases(),
        "output_size": sizes.size_cases(),
        "transposed_size": sizes.transposed_cases(),
        "parameters": exercises.counts.parameter_cases(),
        "receptive_field": sizes.receptive_field_cases(),
        "flatten_size": sizes.flatten_cases(),
        "cross_entropy": exercises.losses.cross_entropy_cases(),
        "output_padding": exercises.backward.output_padding_cases(),
        "input_gradient": exercises.backward.gradient_cases(),
        "overlap_counts": exercises.backward.overlap_cases(),
        "batch_norm": exercises.training.batch_norm_cases(),
        "dropout": exercises.training.dropout_cases(),
        "init_bound": exercises.training.init_bound_cases(),
    }
    assert {name: len(cases) for name, cases in given.items()} == {name: stored[name] for name in given}


def test_signal_cases_start_with_the_lessons_signal_and_cover_every_length():
    cases = assert_repeatable(exercises.signals.signal_cases)
    lesson = "01-correlation-vs-convolution"
    assert cases[0]["signal"].tolist() == lesson_literal(lesson, "x")
    assert cases[0]["kernel"].tolist() == lesson_literal(lesson, "w")
    # a kernel as long as the signal (one output), and not symmetric, so that a flipped kernel shows
    assert len(cases[1]["kernel"]) == len(cases[1]["signal"])
    assert not torch.equal(cases[1]["kernel"], cases[1]["kernel"].flip(0))
    for case in cases:
        assert list(case) == ["signal", "kernel"]
        assert case["signal"].dtype == case["kernel"].dtype == torch.float32
        assert 1 <= len(case["kernel"]) <= len(case["signal"])
        torch.testing.assert_close(
            exercises.signals.CORRELATE1D.reference(**case),
            F.conv1d(case["signal"][None, None], case["kernel"][None, None])[0, 0],
        )
    randoms = cases[2:]
    assert sorted({len(c["signal"]) for c in randoms}) == list(range(1, 13)), "every length from 1 to 12"
    assert sorted({len(c["kernel"]) for c in randoms}) == [1, 2, 3, 4, 5], "every kernel length from 1 to 5"
    signal_values = torch.cat([c["signal"] for c in randoms])
    kernel_values = torch.cat([c["kernel"] for c in randoms])
    for values, top in ((signal_values, 5), (kernel_values, 3)):  # small integers of both signs, zero among them
        assert torch.equal(values, values.round()) and sorted(set(values.tolist())) == list(range(-top, top + 1))
    other = exercises.signals.signal_cases(seed=1, count=5)
    assert len(other) == 5 and not same_cases(other, cases[:5]), "the seed picks the random cases"
    assert same_cases(other[:2], cases[:2]), "the two chosen cases come first whatever the seed"


def test_image_cases_start_with_the_ramp_and_keep_every_kernel_inside_its_image():
    cases = assert_repeatable(exercises.signals.image_cases)
    ramp = torch.tensor([[0.0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]])
    assert torch.equal(cases[0]["image"], ramp)
    assert torch.equal(cases[0]["kernel"], exercises.signals._W), "the lesson's kernel, [[1, 2], [3, 4]]"
    randoms = cases[1:]
    for case in cases:
        assert list(case) == ["image", "kernel"] and case["image"].ndim == case["kernel"].ndim == 2
        assert all(k <= i for k, i in zip(case["kernel"].shape, case["image"].shape, strict=True))
    for case in randoms:
        assert case["image"].dtype == case["kernel"].dtype == torch.float64
    assert sorted({c["image"].shape[0] for c in randoms}) == sorted({c["image"].shape[1] for c in randoms})
    assert sorted({c["image"].shape[0] for c in randoms}) == list(range(1, 8)), "every height from 1 to 7"
    for axis in (0, 1):
        assert sorted({c["kernel"].shape[axis] for c in randoms}) == [1, 2, 3], "kernels 1 to 3 on each side"
    assert any(c["kernel"].shape[0] != c["kernel"].shape[1] for c in randoms), "some kernels not square"
    for key, top in (("image", 4), ("kernel", 3)):
        values = torch.cat([c[key].flatten() for c in randoms])
        assert torch.equal(values, values.round()) and sorted(set(values.tolist())) == list(range(-top, top + 1))


def test_the_transposed_cases_are_the_whole_grid_that_torch_accepts():
    for dilation in (False, True):
        accepted = []
        for i, k, s, p, d in itertools.product(range(1, 7), range(1, 5), range(1, 4), range(3), (1, 2)):
            if d == 2 and not dilation:
                continue
            for a in range(4):
                try:
                    F.conv_transpose1d(torch.zeros(1, 1, i), torch.zeros(1, 1, k), None, s, p, a, 1, d)
                except RuntimeError:  # output_padding not below the stride or dilation, or no output left
                    continue
                case = {"size": i, "kernel_size": k, "stride": s, "padding": p, "output_padding": a}
                accepted.append(case | {"dilation": d} if dilation else case)
        assert sizes.transposed_cases(dilation=dilation) == accepted
    assert sizes.transposed_cases() == sizes.transposed_cases(dilation=False)


def test_receptive_field_cases_start_with_the_lessons_stems_and_vary_every_layer():
    cases = assert_repeatable(sizes.receptive_field_cases)
    assert all(list(case) == ["layers"] for case in cases)
    stems = lesson_literal("02-padding-stride-dilation", "stems").values()
    for case in cases[:3]:  # pieces of the lesson's stems, so that a message shows layers the student has seen
        n = len(case["layers"])
        assert any(stem[i : i + n] == case["layers"] for stem in stems for i in range(len(stem))), case
    assert len({str(case["layers"]) for case in cases[:3]}) == 3
    randoms = [case["layers"] for case in cases[3:]]
    assert sorted({len(layers) for layers in randoms}) == [1, 2, 3, 4, 5]
    assert sorted({k for layers in randoms for k, _ in layers}) == list(range(1, 8))
    assert sorted({s for layers in randoms for _, s in layers}) == [1, 2, 3]


def test_the_flatten_cases_are_every_stack_whose_map_survives():
    """The grid of sizes, channels, kernels, paddings and pools, less the stacks SimpleCNN cannot build."""
    expected = []
    for size, channels, k, p, pool in itertools.product(
        (8, 13, 28, 32), ((6,), (8, 16), (4, 8, 16)), (3, 5), (0, 1, 2), (2, 3, None)
    ):
        try:
            SimpleCNN(in_channels=1, conv_channels=channels, kernel_size=k, padding=p, pool=pool, input_size=size)
        except ValueError:
            continue
        expected.append({"size": size, "conv_channels": channels, "kernel_size": k, "padding": p, "pool": pool})
    assert sizes.flatten_cases() == expected
    assert any(c["pool"] is None for c in expected) and any(c["padding"] == 0 for c in expected)


def test_the_flatten_trace_says_how_the_size_comes_about():
    lenet = (256, "16 x 4 x 4 (28 -> conv 24 -> pool 12 -> conv 8 -> pool 4)")
    assert sizes.flatten_trace(28, (6, 16), 5, 0, 2) == lenet
    assert sizes.flatten_trace(8, (4,), 3, 1, None) == (256, "4 x 8 x 8 (8 -> conv 8)")
    with pytest.raises(ValueError):
        sizes.flatten_trace(8, (4, 4, 4), 5, 0, 2)


def test_parameter_cases_are_every_layer_torch_builds_with_and_without_groups_and_bias():
    cases = exercises.counts.parameter_cases()
    expected = []
    for i, o, k, bias, g in itertools.product((1, 3, 8, 32), (4, 8, 32), (1, 3, 5), (True, False), (1, 2, 4)):
        try:
            layer = nn.Conv2d(i, o, k, bias=bias, groups=g)
        except ValueError:  # channels not divisible by the groups
            continue
        expected.append({"in_channels": i, "out_channels": o, "kernel_size": k, "bias": bias, "groups": g})
        assert exercises.counts.CONV_PARAMETERS.reference(**expected[-1]) == sum(p.numel() for p in layer.parameters())
    assert cases == expected
    assert {c["groups"] for c in cases} == {1, 2, 4} and {c["bias"] for c in cases} == {True, False}


def test_the_mistake_wrappers_pass_each_argument_in_its_place():
    def echo(*args):
        return args

    assert sizes._positional(echo)(size=7, kernel_size=3, stride=2, padding=1, dilation=2) == (7, 3, 2, 1, 2)
    assert sizes._transposed(echo)(size=4, kernel_size=3, stride=2, padding=1, output_padding=1) == (4, 3, 2, 1, 1, 1)
    assert sizes._transposed(echo)(size=4, kernel_size=3, stride=2, padding=1, output_padding=1, dilation=3)[5] == 3
    count = exercises.counts._count(echo)
    assert count(in_channels=8, out_channels=4, kernel_size=3, bias=True, groups=2) == (8, 4, 3, 1, 2)
    assert count(in_channels=8, out_channels=4, kernel_size=3, bias=False, groups=2)[3] == 0
    assert sizes._guess("no pool")(size=28, conv_channels=(6,), kernel_size=5, padding=0, pool=2) == 6 * 24 * 24
    assert exercises.backward._short(echo)(size=8, kernel_size=3, stride=2, padding=1) == (8, 3, 2, 1)
    assert exercises.blocks._ratio(echo)(in_channels=3, out_channels=8, kernel_size=5) == (3, 8, 5)
    assert exercises.blocks._dense(echo)(in_channels=16, growth_rate=12, num_layers=6) == (16, 12, 6)
    bottleneck = exercises.blocks._bottleneck(echo)  # p: 1 where the shortcut needs a projection
    assert bottleneck(in_channels=64, width=64) == (64, 64, 1) and bottleneck(in_channels=256, width=64) == (256, 64, 0)


def test_each_named_mistake_is_wrong_somewhere_and_gives_what_the_mistake_makes():
    """A mistake that agreed with the reference on every case would call a right answer wrong."""
    blocks = exercises.blocks
    bottleneck = lambda in_channels, width: (  # noqa: E731 (lesson 04's blocks by hand: their references build models)
        in_channels * width + 9 * width**2 + 4 * width**2 + 2 * 6 * width
        + (in_channels != 4 * width) * (in_channels * 4 * width + 2 * 4 * width)
    )  # fmt: skip
    for exercise, reference in (
        (sizes.OUTPUT_SIZE, sizes.OUTPUT_SIZE.reference),
        (sizes.TRANSPOSED_SIZE_DILATED, sizes.TRANSPOSED_SIZE_DILATED.reference),
        (sizes.FLATTEN_SIZE, sizes.FLATTEN_SIZE.reference),
        (exercises.counts.CONV_PARAMETERS, exercises.counts.CONV_PARAMETERS.reference),
        (exercises.backward.OUTPUT_PADDING, exercises.backward.OUTPUT_PADDING.reference),
        (blocks.BOTTLENECK, bottleneck),
        (blocks.SEPARABLE, lambda in_channels, out_channels, kernel_size: 1 / out_channels + 1 / kernel_size**2),
        (blocks.DENSE, lambda in_channels, growth_rate, num_layers: in_channels + num_layers * growth_rate),
    ):
        for mistake in exercise.mistakes:
            answers = [(mistake.gives(**case), reference(**case)) for case in exercise.cases]
            assert any(wrong is not None and not math.isclose(wrong, ok) for wrong, ok in answers), mistake.hint
    case = {"in_channels": 256, "width": 64}  # ResNet-50's second bottleneck: 256 = 4 * 64, no projection
    assert bottleneck(**case) == blocks._bottleneck_reference(**case) == 70_400
    # by hand: Conv2d(8, 4, 3, groups=2) has 4 filters of 8/2 * 9 = 36 weights, and 4 biases: 148
    case = {"in_channels": 8, "out_channels": 4, "kernel_size": 3, "bias": True, "groups": 2}
    gives = {m.hint.split(":")[0]: m.gives(**case) for m in exercises.counts.CONV_PARAMETERS.mistakes}
    assert exercises.counts.CONV_PARAMETERS.reference(**case) == 148
    assert gives["you forgot the biases"] == 144
    assert gives["each kernel sees in_channels / groups channels, not all of them"] == 8 * 9 * 4 + 4
    # output size 7, kernel 3, stride 2, padding 1, dilation 2: (7 + 2 - 4 - 1) // 2 + 1 = 3
    case = {"size": 7, "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2}
    gives = [m.gives(**case) for m in sizes.OUTPUT_SIZE.mistakes]
    assert sizes.OUTPUT_SIZE.reference(**case) == 3
    assert gives[:3] == [2, 4, 3 // 2 + 1]  # no + 1; no dilation: (9 - 3) // 2 + 1; d*k: (9 - 6) // 2 + 1


def test_cross_entropy_cases_go_from_the_textbook_row_to_logits_where_exp_overflows():
    cases = assert_repeatable(exercises.losses.cross_entropy_cases)
    for case in cases:
        logits, labels = case["logits"], case["labels"]
        assert list(case) == ["logits", "labels"] and logits.dtype == torch.float64 and logits.ndim == 2
        assert labels.dtype == torch.int64 and labels.shape == (len(logits),)
        assert torch.isfinite(F.cross_entropy(logits, labels)), "every label names one of its row's classes"
    first = cases[0]  # the textbook row: softmax(2, 1, 0.1) = (0.659, 0.242, 0.099)
    assert torch.softmax(first["logits"], 1).round(decimals=3).tolist() == [[0.659, 0.242, 0.099]]
    assert first["labels"].tolist() == [0]
    small, large = cases[1:18], cases[18:]
    assert sorted({len(c["labels"]) for c in small}) == [1, 2, 3, 4], "batches of 1 to 4"
    assert sorted({c["logits"].shape[1] for c in small}) == [2, 3, 4, 5, 6], "2 to 6 classes"
    assert any(0 in c["labels"] for c in small) and any(c["logits"].shape[1] - 1 in c["labels"] for c in small)
    values = torch.cat([c["logits"].flatten() for c in small])
    assert torch.equal(values, (values * 10).round() / 10), "one decimal"
    assert 5 < values.abs().max() <= 10
    for case in large:  # exp over- or underflows in each: a plain log(sum(exp)) is not finite
        assert not torch.isfinite(case["logits"].exp().sum(dim=1).log()).all()
    batch_shift = [
        (c["logits"].max() + (c["logits"] - c["logits"].max()).exp().sum(1).log())
        - c["logits"][torch.arange(len(c["labels"])), c["labels"]]
        for c in large
    ]
    assert any(torch.isinf(loss).any() for loss in batch_shift), "a row far below the batch's maximum"
    losses = [F.cross_entropy(c["logits"], c["labels"]).item() for c in large]
    assert any(math.isclose(loss, math.log(1 + math.exp(-1)) / 2, rel_tol=1e-9) for loss in losses)
    in_float32 = [F.cross_entropy(c["logits"].float(), c["labels"]).item() for c in large]
    assert any(not math.isclose(a, b, rel_tol=1e-6) for a, b in zip(in_float32, losses, strict=True))


def test_output_padding_cases_start_with_the_lessons_example_then_every_convolution_that_fits():
    cases = exercises.backward.output_padding_cases()
    first = cases[0]  # lesson 05: sizes 7 and 8 both become 4 under Conv(3, stride 2, padding 1)
    k, s, p = first["kernel_size"], first["stride"], first["padding"]
    assert {n: arithmetic.conv_output_size(n, k, s, p) for n in (7, 8)} == {7: 4, 8: 4} and first["size"] == 8
    expected = []
    for n, k, s, p in itertools.product(range(1, 12), range(1, 6), range(1, 5), range(3)):
        try:
            F.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p)
        except RuntimeError:  # the kernel does not fit
            continue
        if p < k:  # padding at most k - 1, as in practice
            expected.append({"size": n, "kernel_size": k, "stride": s, "padding": p})
    assert cases[1:] == expected


def test_gradient_cases_pair_every_kernel_size_with_every_stride():
    cases = assert_repeatable(exercises.backward.gradient_cases)
    for case in cases:
        assert list(case) == ["grad_output", "kernel", "stride"]
        assert case["grad_output"].dtype == case["kernel"].dtype == torch.float64
        g, kernel = case["grad_output"], case["kernel"]
        assert torch.equal(g, g.round()) and torch.equal(kernel, kernel.round()) and kernel.shape[0] == kernel.shape[1]
    first, second = cases[:2]
    assert first["stride"] == 1 and not torch.equal(first["kernel"], first["kernel"].flip(0, 1)), "flipping shows"
    assert second["stride"] == second["kernel"].shape[0] == 2, "copies that tile without overlapping"
    randoms = cases[2:]
    pairs = [(c["kernel"].shape[0], c["stride"]) for c in randoms]
    assert sorted(set(pairs)) == list(itertools.product((1, 2, 3), (1, 2, 3))) and len(pairs) == 3 * 9
    for axis in (0, 1):
        assert sorted({c["grad_output"].shape[axis] for c in randoms}) == [1, 2, 3, 4]
    for key, top in (("grad_output", 3), ("kernel", 2)):
        values = torch.cat([c[key].flatten() for c in randoms])
        assert sorted(set(values.tolist())) == list(range(-top, top + 1))


def test_overlap_cases_take_strides_below_at_and_above_every_kernel_size():
    cases = exercises.backward.overlap_cases()
    sizes_ = (1, 2, 3, 5, 8)
    assert cases == [
        {"size": n, "kernel_size": k, "stride": s} for n, k, s in itertools.product(sizes_, range(1, 6), range(1, 5))
    ]


def test_batch_norm_cases_have_channels_far_apart_and_the_edge_shapes():
    cases = assert_repeatable(exercises.training.batch_norm_cases)
    for case in cases:
        x, weight, bias = case["x"], case["weight"], case["bias"]
        assert list(case) == ["x", "weight", "bias", "eps"] and x.dtype == weight.dtype == bias.dtype == torch.float64
        assert x.ndim == 4 and weight.shape == bias.shape == (x.shape[1],)
    shapes = [tuple(c["x"].shape) for c in cases[:-1]]
    assert any(n == 1 for n, _, _, _ in shapes), "one image: the statistics come from its positions alone"
    assert any(h == w == 1 for _, _, h, w in shapes), "1x1 maps: the statistics come from the batch alone"
    assert any(c == 1 for _, c, _, _ in shapes) and max(c for _, c, _, _ in shapes) >= 4
    assert any(h != w for _, _, h, w in shapes), "maps that are not square"
    for case in cases[:-1]:
        x = case["x"]
        assert torch.equal(x, (x * 100).round() / 100) and case["eps"] == 1e-5, "two decimals, torch's eps"
        means, stds = x.mean(dim=(0, 2, 3)), x.std(dim=(0, 2, 3), unbiased=False)
        assert bool((stds > 0.05).all()) and bool((stds < 4).all())
        if len(means) > 1:  # channels far apart: statistics over all channels together are far off
            assert (means.max() - means.min()).item() > 1.5
        for values in (case["weight"], case["bias"]):
            assert torch.equal(values, (values * 10).round() / 10), "one decimal"
        assert 0.5 <= case["weight"].min() and case["weight"].max() <= 2.5, "scales that keep the signs"
    assert max(c["x"].mean(dim=(0, 2, 3)).abs().max().item() for c in cases) > 8
    spreads = [c["x"].std(dim=(0, 2, 3), unbiased=False) for c in cases if c["x"].shape[1] > 1]
    assert max((s.max() / s.min()).item() for s in spreads) > 5, "channels of very different spreads"
    assert any(c["weight"].min() < 1 < c["weight"].max() for c in cases), "scales that shrink and that stretch"
    assert any(c["bias"].min() < 0 < c["bias"].max() for c in cases)
    last = cases[-1]  # an earlier batch shrunk a thousandfold, with eps 1e-3: here eps changes the answer
    earlier = next(c for c in cases[:-1] if c["x"].shape == last["x"].shape)
    torch.testing.assert_close(last["x"], earlier["x"] / 1000)
    assert torch.equal(last["weight"], earlier["weight"]) and torch.equal(last["bias"], earlier["bias"])
    assert last["eps"] == 1e-3 and last["x"].var(dim=(0, 2, 3)).max() < last["eps"]


def test_dropout_cases_take_each_probability_in_training_and_in_evaluation():
    cases = assert_repeatable(exercises.training.dropout_cases)
    assert [(c["p"], c["training"]) for c in cases] == [
        (p, training) for p in (0.5, 0.2, 0.1, 0.75, 0.3) for training in (True, False)
    ]
    for case in cases:
        x, keep = case["x"], case["keep"]
        assert list(case) == ["x", "keep", "p", "training"] and x.shape == keep.shape == (2, 6)
        assert x.dtype == keep.dtype == torch.float64 and set(keep.unique().tolist()) <= {0.0, 1.0}
        assert torch.equal(x, (x * 10).round() / 10) and x.abs().max() < 8
    assert all(0 < c["keep"].sum() < 12 for c in cases if c["training"]), "some kept, some dropped"
    kept = sum(c["keep"].sum().item() for c in cases if c["p"] == 0.75)
    assert kept < 12, "a high drop probability drops most"
    assert not any(torch.equal(a["x"], b["x"]) for a, b in itertools.combinations(cases, 2))


def test_init_bound_cases_take_every_layer_with_the_four_gains():
    cases = exercises.training.init_bound_cases()
    gains = [math.sqrt(2.0), 5 / 3, 1.0, math.sqrt(1 / 3)]
    for name, gain in zip(("relu", "tanh", "linear"), gains, strict=False):
        assert math.isclose(nn.init.calculate_gain(name), gain)
    assert math.isclose(nn.init.calculate_gain("leaky_relu", math.sqrt(5)), math.sqrt(1 / 3))  # nn.Conv2d's own
    layers = [(1, 3), (3, 3), (16, 3), (64, 1), (8, 5), (32, 7), (256, 3)]  # RGB and grey inputs, 1x1 to 7x7
    assert sorted(tuple(c.values()) for c in cases) == sorted((i, k, g) for i, k in layers for g in gains)
    assert list(cases[0]) == ["in_channels", "kernel_size", "gain"]


# --- what mutation testing found in the core and the answer kinds --------------------------------------------------


def test_a_crash_names_the_students_line_only_where_there_is_one():
    first = exercises.signals.signal_cases()[0]
    with pytest.raises(RuntimeError) as by_torch:
        torch.dot(first["signal"], first["kernel"])
    with pytest.raises(ExerciseFailed) as caught:  # torch's own code raises: no line of the student's to show
        exercises.check_correlate1d(torch.dot, time_limit=1)
    assert str(caught.value).endswith(f"raised RuntimeError: {by_torch.value}")
    namespace = {}
    exec("def no_source(signal, kernel):\n    return signal[99]\n", namespace)  # made from a string: no source lines
    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_correlate1d(namespace["no_source"], time_limit=1)
    assert "raised IndexError: index 99 is out of bounds for dimension 0 with size 8. Hint: an index ran" in str(
        caught.value
    )

    def student(signal, kernel):
        return signal[99]

    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_correlate1d(student, time_limit=1)
    assert "with size 8 (line " in str(caught.value) and ": `return signal[99]`). Hint: an index" in str(caught.value)


def test_a_crash_without_advice_ends_with_the_error_and_a_crash_after_a_named_mistake_counts_the_wrong_answers():
    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_output_size(lambda i, k, s, p, d: int("seven"), time_limit=1)
    assert str(caught.value).startswith("output_size(size=1, kernel_size=1, stride=1, padding=0, dilation=1) raised ")
    assert "ValueError: invalid literal for int() with base 10: 'seven'" in str(caught.value)
    assert "Hint" not in str(caught.value)

    def no_plus_one_until_13(i, k, s, p, d):  # the + 1 left out, then a crash on the first size-13 case
        return (i + 2 * p - d * (k - 1) - 1) // s if i < 13 else 1 // 0

    answered = sum(case["size"] < 13 for case in sizes.size_cases())
    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_output_size(no_plus_one_until_13, time_limit=5)
    text = str(caught.value)
    assert f"expected 1, got 0 ({answered} of {answered} cases wrong, off by -1). Hint: you left out the + 1" in text
    assert "(On a later case, output_size(size=13, kernel_size=1, stride=1, padding=0, dilation=1) raised " in text


def test_a_bool_where_a_pair_belongs_is_told_to_return_a_pair_not_that_it_is_the_total():
    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_same_padding(lambda k, d: False, time_limit=1)
    assert str(caught.value) == (
        "for kernel_size=1, dilation=1, your function returned the bool False; a pair of ints is expected ((0, 0)). "
        "Return a pair (left, right)."
    )


def test_the_answer_kinds_say_what_they_were_made_for():
    with pytest.raises(answers.Unreadable) as caught:
        answers.Whole().read(2.5)
    assert (
        caught.value.advice
        == "a count or a size is a whole number; `/` gives a fraction: the formula rounds down, so use `//`"
    )
    with pytest.raises(answers.Unreadable) as caught:
        answers.Whole("a receptive field").read(torch.tensor(5))
    assert caught.value.advice.startswith("a receptive field is a plain int, not a tensor")
    for pair, words in ((answers.Pair(), "(left, right)"), (exercises.counts.Counts(), "(dense, conv)")):
        with pytest.raises(answers.Unreadable) as caught:
            pair.read(7)
        assert caught.value.advice == f"return both numbers as a pair: {words}"
    assert (answers.Values().rtol, answers.Values().atol) == (1e-5, 1e-8)
    exact = answers.Values(rtol=0, atol=0)
    assert exact.equal([1.0, 2.0], [1.0, 2.0]) and not exact.equal([1.0, 2.0], [1.0, 2.0 + 1e-12])
    assert answers.Values().equal([1.0, 2.0], [1.0, 2.0 + 1e-6]) and not answers.Values().equal([1.0], [1.0001])


def test_the_dense_vs_conv_mistakes_test_their_own_number_of_the_pair():
    counts = exercises.counts
    case = {"height": 4, "width": 5, "in_channels": 3, "out_channels": 2, "kernel_size": 3}
    order = counts._dense(lambda i, o, h, w, k: i * 10_000 + o * 1000 + h * 100 + w * 10 + k)
    assert order(case, (32_453, 56), (99, 56)), "the formula takes (in, out, height, width, kernel)"
    for wrong, which in ((counts._dense(lambda *_: 7), 0), (counts._conv(lambda *_: 7), 1)):
        right = (100, 200)
        got = tuple(7 if n == which else v for n, v in enumerate(right))
        assert wrong(case, got, right) is True
        assert not wrong(case, right, right), "a right number is no mistake"
        assert not wrong(case, tuple(8 if n == which else v for n, v in enumerate(right)), right)
        assert not wrong(case, (7, 7), (7, 7))


def test_a_value_exercise_says_what_the_answer_is_when_it_is_not_a_value():
    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_flipped_kernel(len)
    assert str(caught.value) == (
        "your answer is the function len; this exercise asks for a value (a tensor (or list) of numbers), not a "
        "function"
    )
    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_flipped_kernel("4 3 2 1")
    assert str(caught.value) == (
        "your answer is the string '4 3 2 1'; a tensor (or list) of numbers is expected. Return the value itself, "
        "not text (no quotes, no f-string, no str(...))."
    )


def test_the_shape_hint_names_an_extra_axis_and_a_reshape_and_nothing_else():
    values = answers.Values()
    right = torch.tensor([1.0, 2.0, 3.0])
    assert values.shape_hint(right[None], right) == (
        "these are the right values, but with shape (1, 3) instead of (3,): an extra axis of size 1 (from [[...]], "
        "or the batch and channel axes of F.conv...); take it away with `.squeeze()` or by indexing it, e.g. `[0]`"
    )
    assert (
        values.shape_hint(right, right[None])
        == "these are the right values, but with shape (3,): `.reshape(1, 3)` them"
    )
    assert values.shape_hint(right[None], right[:, None]) == (
        "these are the right values, but with shape (1, 3): `.reshape(3, 1)` them"
    )
    assert values.shape_hint(right, right) is None, "nothing to say about the shape"
    assert values.shape_hint(right[None] + 1, right) is None, "other values: the shape is not the problem"
    assert values.shape_hint(torch.ones(3, 2), torch.ones(6)) is None


def test_the_float32_hint_takes_errors_up_to_float32s_digits_and_no_more():
    rounding = exercises.losses._float32_rounding
    near = [(10.0, 10.0005), (0.5, 0.50009)]  # within 1e-4 of the loss (relative beyond 1, absolute below)
    for expected, got in near:
        assert rounding({}, torch.tensor(got, dtype=torch.float64), torch.tensor(expected, dtype=torch.float64))
    for expected, got in [(10.0, 10.002), (0.5, 0.50015), (0.5, 1.0)]:
        assert not rounding({}, torch.tensor(got, dtype=torch.float64), torch.tensor(expected, dtype=torch.float64))
    assert not rounding({}, torch.tensor(float("inf")), torch.tensor(1.0, dtype=torch.float64))
    assert not rounding({}, torch.tensor([1.0, 1.0]), torch.tensor(1.0, dtype=torch.float64))


def test_dense_cases_have_one_image_that_is_not_square_and_start_with_a_small_rgb_one():
    cases = exercises.counts.dense_cases()
    sizes_ = {(c["height"], c["width"]) for c in cases}
    assert len([s for s in sizes_ if s[0] != s[1]]) == 1, "one image that is not square, so height and width differ"
    assert (cases[0]["height"], cases[0]["width"], cases[0]["in_channels"]) == (6, 6, 3)
    for case in cases:
        assert case["kernel_size"] % 2 == 1 and case["kernel_size"] <= min(case["height"], case["width"])


def test_counts_in_floats_are_told_to_stay_whole():
    with pytest.raises(answers.Unreadable) as caught:
        exercises.counts.Counts().read((12.0, 84))
    assert (caught.value.what, caught.value.advice) == (
        "floats, (12.0, 84)",
        "parameter counts are whole numbers, ints; `/` always gives a float (even 12 / 4 is 3.0): use `//`, or "
        "multiply and add only",
    )


@pytest.mark.parametrize(
    ("kind", "value", "what", "advice"),
    [
        (
            answers.Pair(),
            torch.tensor([1, 2]),
            "a tensor of shape (2,), [1, 2]",
            "return a tuple of two plain ints, (left, right), not a tensor or array",
        ),
        (answers.Pair(), range(2), "a range (range(0, 2))", "return a pair (left, right)"),
        (answers.Pair(), (1, 2, 3), "a tuple of 3 values, (1, 2, 3)", "(left, right) has two numbers"),
        (
            answers.Pair(),
            (1.5, 2),
            "floats, (1.5, 2)",
            "these are counts of zeros, whole numbers; `/` always gives a float: use `//`",
        ),
        (
            answers.Pair(),
            (1, "2"),
            "a tuple of 2 values, (1, '2')",
            "each number of (left, right) must be an int (the string '2': return the value itself, not text (no "
            "quotes, no f-string, no str(...)))",
        ),
        (
            answers.Values(),
            np.array(["a", "b"]),
            "a numpy array of shape (2,), ['a', 'b']",
            "the array must hold numbers",
        ),
        (
            answers.Values(),
            [[1, 2], [3], [4], [5], [6]],
            "a list of 5 values, [[1, 2], [3], [4], [5], [6]]",
            "its rows have different shapes ((2,), (1,), (1,), (1,), ...); they must match",
        ),
        (
            answers.Values(),
            2.5,
            "the float 2.5",
            "one value per position is expected: return them all in a list or tensor",
        ),
        (answers.Number(), True, "the bool True", "a comparison gives a bool; return the number itself"),
        (answers.Whole(), True, "the bool True", "a comparison gives a bool; return the number itself"),
        (
            answers.Whole(),
            12.0,
            "the float 12.0",
            "a count or a size is a whole number, an int; `/` always gives a float (even 12 / 4 is 3.0): use `//` "
            "(floor division), or int(...)",
        ),
        (answers.Whole(), torch.tensor([1, 2]), "a tensor of shape (2,), [1, 2]", "return one number, not 2 values"),
        (answers.Whole(), np.array([1, 2]), "a numpy array of shape (2,), [1, 2]", "return one number, not 2 values"),
        (
            answers.Whole(),
            np.array([3]),
            "a numpy array of shape (1,), [3]",
            "a count or a size is a plain int, not a tensor or array: take it out with `.item()`, or compute with ints",
        ),
        (
            answers.Whole(),
            (1, 2),
            "a tuple of 2 values, (1, 2)",
            "return one number, not a tuple (`return a, b` makes a tuple)",
        ),
        (answers.Whole(), [1], "a list of 1 value, [1]", "return one number, not a list"),
        (
            answers.Whole("a size"),
            type("Box", (), {"__repr__": lambda self: "box"})(),
            "a Box (box)",
            "return a size, one int",
        ),
        (
            answers.Number(),
            np.complex128(1 + 2j),
            "a complex128 (np.complex128(1+2j))",
            "return a list or a tensor of numbers",
        ),
    ],  # fmt: skip
)
def test_each_answer_kind_says_what_came_back_and_what_to_do(kind, value, what, advice):
    with pytest.raises(answers.Unreadable) as caught:
        kind.read(value)
    assert (caught.value.what, caught.value.advice) == (what, advice)


def test_values_read_mixed_numbers_and_compare_with_their_tolerances():
    values = answers.Values()
    with pytest.raises(answers.Unreadable) as caught:
        values.read([1, "a"])
    assert caught.value.what == "a list of 2 values, [1, 'a']"
    assert caught.value.advice.startswith("it must hold numbers only (")
    assert values.read([torch.tensor([1.5]), 2.0]).tolist() == [1.5, 2.0], "one-value tensors among numbers"
    assert values.equal([1, 2], [1.0, 2.0]) and values.equal([float("nan"), 1.0], [float("nan"), 1.0])
    assert answers.Values(rtol=1e-3, atol=0).equal([1000.5], [1000.0]), "relative tolerance"
    assert answers.Values(rtol=0, atol=0.1).equal([0.05], [0.0]), "absolute tolerance"
    assert values.show([1, 2]) == "[1.0, 2.0]"
    assert values.show([1.0] * 60) == str([1.0] * 60), "300 characters are shown whole"
    longer = values.show([10.0] + [1.0] * 59)  # 301 characters
    assert len(longer) == 300 and longer.endswith(" ...]")


def test_number_compares_one_value_with_its_tolerances_and_several_value_by_value():
    assert answers.Number(rtol=1e-3, atol=0).equal(1000.5, 1000.0) and not answers.Number().equal(1000.5, 1000.0)
    assert answers.Number(rtol=0, atol=0.1).equal(0.05, 0.0) and not answers.Number(rtol=0, atol=0.01).equal(0.05, 0)
    nan = float("nan")
    assert answers.Number().equal(torch.tensor([1.0, nan]), torch.tensor([1.0, nan]))
    assert not answers.Number().equal(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 3.0]))
    assert not answers.Number().equal(torch.tensor([1.0, 2.0]), torch.tensor([[1.0, 2.0]]))
    assert answers.Number().show(torch.tensor([1.0, 2.0])) == "2 values, [1.0, 2.0]"


def test_each_flatten_mistake_gives_what_that_slip_computes():
    """13x13, two blocks of 3x3 convolutions (padding 1) with 4 and 8 channels, each with a 2x2 pool: right is
    13 -> conv 13 -> pool 6 -> conv 6 -> pool 3, so 8 x 3 x 3 = 72. Each slip, by hand:"""
    by_hand = {
        "no channels": 3 * 3,
        "first channels": 4 * 3 * 3,
        "sum channels": 12 * 3 * 3,
        "not squared": 8 * 3,
        "no pool": 8 * 13 * 13,  # 13 -> 13 -> 13
        "pool once": 8 * 6 * 6,  # 13 -> 13 -> 13, then one pool: 6
        "one block": 8 * 6 * 6,  # 13 -> 13 -> 6, with the last block's channels
        "ceil": 8 * 4 * 4,  # 13 -> 13 -> 7 -> 7 -> 4
        "no padding": 8 * 1 * 1,  # 13 -> 11 -> 5 -> 3 -> 1
        "one side": 8 * 2 * 2,  # 13 -> 12 -> 6 -> 5 -> 2
        "no shrink": 72,  # padding 1 keeps a 3x3 convolution's size anyway
    }
    assert set(by_hand) == set(sizes._FLATTEN_HINTS)
    for mistake, value in by_hand.items():
        assert sizes._flatten_guess(13, (4, 8), 3, 1, 2, mistake) == value, mistake
    # a map of exactly one cell is still a map: 5 -> conv 3 -> pool 1
    assert (
        sizes._flatten_guess(5, (4,), 3, 0, 3, "no padding") == sizes._flatten_guess(5, (4,), 3, 0, 3, "pool once") == 4
    )
    assert sizes._flatten_guess(4, (4,), 3, 0, 3, "one side") is None, "4 -> 2 -> 0: the map vanishes"


# --- the core on a small made-up exercise: double a number ----------------------------------------------------------


def doubling(*mistakes, hint="double it.", cases=(1, 2, 3), answer=None):
    """An exercise of the core's own: ``double(n) = 2 n``, with the given named mistakes."""
    return core.Exercise(
        name="double",
        cases=[{"n": n} for n in cases],
        reference=lambda n: 2 * n,
        answer=answer or answers.Whole(),
        hint=hint,
        mistakes=mistakes,
    )


def failure(exercise, student) -> str:
    with pytest.raises(ExerciseFailed) as caught:
        core.check_function(exercise, student, "check_double", time_limit=2)
    return str(caught.value)


def test_a_hint_written_with_its_full_stop_is_not_doubled():
    assert failure(doubling(), lambda n: 2 * n + 1) == (
        "for n=1: expected 2, got 3 (3 of 3 cases wrong, off by +1). Hint: double it."
    )
    value = core.Exercise("answer", [{}], lambda: 4, answers.Whole(), "two and two.")
    with pytest.raises(ExerciseFailed) as caught:
        core.check_value(value, 5)
    assert str(caught.value) == "your answer, 5, is not it. Hint: two and two."


def test_one_case_says_how_far_off_it_is_and_nothing_when_not_whole():
    assert failure(doubling(cases=(3,)), lambda n: 7) == "for n=3: expected 6, got 7 (off by +1). Hint: double it."
    assert failure(doubling(cases=(3,), answer=answers.Number()), lambda n: 7.0) == (
        "for n=3: expected 6, got 7. Hint: double it."
    )


def test_a_mistake_that_only_reads_answers_of_the_wrong_kind_does_not_end_the_search():
    raw_only = core.Mistake("that is text", raw=lambda case, value, expected: isinstance(value, str))
    forgot = core.Mistake("you forgot to double", gives=lambda n: n)
    assert failure(doubling(raw_only, forgot), lambda n: n).endswith("Hint: you forgot to double.")


def test_a_mistake_is_named_for_wrong_answers_only():
    """Right on n=1, wrong on 2 and 3; a mistake that agrees with the right answer and says nothing about the
    wrong ones explains nothing."""
    silent = core.Mistake("only the first", gives=lambda n: 2 if n == 1 else None)
    assert failure(doubling(silent), lambda n: 2 if n == 1 else 0).endswith("Hint: double it.")


def test_a_mistake_that_explains_the_first_wrong_answer_is_named_with_it():
    first = core.Mistake("zero for two", gives=lambda n: 0 if n == 2 else 99)
    expected = "for n=2: expected 4, got 0 (2 of 3 cases wrong, off by -4). Hint: zero for two."
    assert failure(doubling(first), lambda n: 2 if n == 1 else 0) == expected
    seen = core.Mistake("zero for two", when=lambda case, got, expected: case["n"] == 2)
    assert failure(doubling(seen), lambda n: 2 if n == 1 else 0) == expected


def test_a_mistake_whose_test_breaks_down_is_not_named():
    broken = core.Mistake("broken", when=lambda case, got, expected: 1 / 0)
    assert failure(doubling(broken), lambda n: 0).endswith("Hint: double it.")


def test_a_mistake_computes_on_its_own_copy_of_the_case():
    tripled_in_place = core.Mistake("you tripled it", gives=lambda x: x.mul_(3))
    exercise = core.Exercise(
        "double", [{"x": torch.tensor([1.0])}], lambda x: 2 * x, answers.Values(), "double it", (tripled_in_place,)
    )
    assert failure(exercise, lambda x: 3 * x) == "for x=[1.0]: expected [2.0], got [3.0]. Hint: you tripled it."


def test_an_answer_of_the_wrong_kind_is_named_by_the_mistake_that_explains_the_first_of_them():
    spelled = core.Mistake("spell it as a number.", raw=lambda case, value, expected: value == "two")
    words = {1: "two", 2: "many", 3: "many"}
    assert failure(doubling(spelled), lambda n: words[n]) == (
        "for n=1, your function returned the string 'two'; one int is expected (2). Hint: spell it as a number."
    )


def test_numbers_that_agree_to_the_digits_shown_are_shown_with_more():
    def close(logits, labels):  # 4.5e-7 off: beyond the tolerance (4.2e-7 for the first case), within six digits
        return F.cross_entropy(logits, labels) + 4.5e-7

    first = exercises.losses.cross_entropy_cases()[0]
    right = F.cross_entropy(first["logits"], first["labels"]).item()
    assert f"{right:.6g}" == f"{right + 4.5e-7:.6g}" == "0.41703"
    with pytest.raises(ExerciseFailed) as caught:
        exercises.check_cross_entropy(close, time_limit=2)
    assert f": expected {right:.10g}, got {right + 4.5e-7:.10g} (" in str(caught.value)


def test_an_answer_of_the_wrong_shape_shows_both_shapes():
    def full(signal, kernel):
        return F.conv1d(signal[None, None], kernel[None, None], padding=len(kernel) - 1)[0, 0]

    cases = exercises.signals.signal_cases()
    got, wrong = full(**cases[0]).tolist(), sum(len(case["kernel"]) > 1 for case in cases)  # a 1-tap kernel: right
    assert f"got {got} (shape (10,), the answer's is (6,)) ({wrong} of 40 cases wrong)" in failure_of(
        exercises.check_correlate1d, full
    )


def failure_of(check, student) -> str:
    with pytest.raises(ExerciseFailed) as caught:
        check(student, time_limit=2)
    return str(caught.value)
