"""The checking core: every checker runs its student's answers through it, the same way.

For each case of an exercise, in this order:

1. the expected answer is computed first, from a copy of the case's arguments, so a function that changes its
   inputs cannot change what it is compared with;
2. the student's function is called positionally on its own copy, under a time limit (:class:`TimeLimit`);
   that its inputs changed is noted and said;
3. what came back is read by the exercise's answer kind (:mod:`.answers`): None, text, a tuple or a tensor
   where an int belongs, ... each get a sentence before any arithmetic is done with them.

Then the wrong answers are explained: by the exercise's table of named mistakes (:class:`Mistake`), first one
that explains every answer, then one that explains the first wrong answer; else by what the answer kind sees (the
right values with an extra axis); else by the exercise's general hint.
"""

from __future__ import annotations

import copy
import ctypes
import inspect
import os
import sysconfig
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from cnn_lessons.exercises.answers import Unreadable, describe

__all__ = [
    "ExerciseFailed",
    "TIME_LIMIT",
    "TimeLimit",
    "Mistake",
    "Exercise",
    "check_function",
    "check_value",
    "show_case",
]

TIME_LIMIT = 5.0  # seconds one case may take; a student's loops on the lessons' small cases take milliseconds
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# where a traceback's frames are not the student's: this package, Python's library, installed packages (torch)
_NOT_STUDENTS = tuple(
    {_PACKAGE, *(sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib"))}
)


class ExerciseFailed(AssertionError):
    """A wrong answer; the message names the failing case, the expected and the given result, and a hint."""


class _OutOfTime(BaseException):
    """Raised inside a student's function that ran past its time limit (a BaseException, like KeyboardInterrupt,
    so that the student's own `except Exception:` does not swallow it)."""


def _raise_in(thread_id: int, exception: type[BaseException] | None) -> None:
    """Make ``exception`` pending in the thread ``thread_id`` (None: clear a pending one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exception) if exception is not None else None
    )


class TimeLimit:
    """Stops a call that runs longer than ``seconds``: ``with TimeLimit(2) as limit: limit.call(f, args)``.

    Why this way: the student's function runs in the calling thread, as if the student had called it (its
    prints land in the cell, torch's settings apply), and one watchdog thread per check raises :class:`_OutOfTime`
    inside it when a case runs too long, through CPython's ``PyThreadState_SetAsyncExc``. That works in a Jupyter
    kernel's main thread, in pytest, in any other thread and on every operating system. A SIGALRM timer would
    work only in the main thread and not on Windows; running the student's code in a second thread instead could
    not stop a `while True: pass`, which would go on using a core and the GIL for the rest of the session. The
    exception arrives between two Python instructions: a loop in Python stops at once, one long call into torch
    stops when it returns. The watchdog raises it again every 0.2 s in case the student's code catches it.
    """

    def __init__(self, seconds: float = TIME_LIMIT):
        self.seconds = seconds
        self._target = threading.get_ident()
        self._lock = threading.Condition()
        self._deadline: float | None = None  # the running call's end, by time.monotonic(); None between calls
        self._fired = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def __enter__(self) -> TimeLimit:
        self._target = threading.get_ident()
        try:
            self._thread = threading.Thread(target=self._watch, name="exercise time limit", daemon=True)
            self._thread.start()
        except RuntimeError:  # no threads here (e.g. Pyodide): the cases run without a limit
            self._thread = None
        return self

    def __exit__(self, *exc_info) -> None:
        with self._lock:
            self._closed = True
            self._disarm_locked()
            self._lock.notify()

    def _watch(self) -> None:
        with self._lock:
            while not self._closed:
                if self._deadline is None:
                    self._lock.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._lock.wait(left)
                    continue
                _raise_in(self._target, _OutOfTime)
                self._fired = True
                self._deadline = time.monotonic() + 0.2

    def _disarm_locked(self) -> None:
        self._deadline = None
        if self._fired:  # an exception set but not yet raised must not surface later in other code
            _raise_in(self._target, None)
            self._fired = False

    def _disarm(self) -> None:
        while True:  # a pending _OutOfTime may be raised while disarming: disarm again
            try:
                with self._lock:
                    self._disarm_locked()
                return
            except _OutOfTime:
                continue

    def call(self, function: Callable, args: Sequence) -> Any:
        """``function(*args)``; raises :class:`_OutOfTime` if it runs past the limit."""
        if self._thread is None:
            return function(*args)
        with self._lock:
            self._deadline = time.monotonic() + self.seconds
            self._fired = False
            self._lock.notify()
        try:
            return function(*args)
        finally:
            self._disarm()


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer and what to tell the student about it.

    Give ``gives(**case)``: what that mistake returns for a case's arguments (None where it does not apply, or
    raises), or ``when(case, got, expected)``: whether a wrong answer (already read) shows it. ``raw(case, value,
    expected)`` recognises it from an answer of the wrong kind (a list where one int belongs), before reading.
    """

    hint: str
    gives: Callable[..., Any] | None = None
    when: Callable[[dict, Any, Any], bool] | None = None
    raw: Callable[[dict, Any, Any], bool] | None = None


@dataclass(frozen=True)
class Exercise:
    """An exercise as the core checks it.

    ``name``: the function's (or value's) name in the lesson. ``cases``: keyword arguments, in the order the
    student's function takes them (``[{}]`` for a value). ``reference``: the right answer from a case's arguments.
    ``answer``: the kind of answer (:mod:`.answers`). ``mistakes``: named mistakes, tried in order. ``hint``: the
    general hint. ``show_expected(case, expected)``: the expected answer with its working, for the message.
    ``passed``: the line printed when every case is right (``{count}`` is the number of cases).
    """

    name: str
    cases: Sequence[dict]
    reference: Callable[..., Any]
    answer: Any
    hint: str
    mistakes: Sequence[Mistake] = ()
    show_expected: Callable[[dict, Any], str] | None = None
    passed: str = "\u2713 {name}: correct on all {count} cases"


@dataclass(eq=False)
class _Result:
    case: dict
    expected: Any
    got: Any
    changed: list[str] = field(default_factory=list)
    given: dict = field(default_factory=dict)


def _text(value) -> str:
    if isinstance(value, torch.Tensor):
        return str(value.tolist()) if value.ndim else repr(value.item())
    return repr(value)


def show_case(case: dict) -> str:
    """``size=7, kernel_size=3, ...`` with tensors as lists."""
    return ", ".join(f"{k}={_text(v)}" for k, v in case.items())


def _same(a, b) -> bool:
    """Whether an argument is unchanged (its copy after the call against the original)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (
            isinstance(a, torch.Tensor)
            and isinstance(b, torch.Tensor)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and bool(torch.equal(a, b))
        )
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    try:
        return bool(a == b)
    except Exception:  # a comparison that fails: count it as changed rather than fail the check
        return False


def _changed_note(result: _Result, during: str) -> str:
    name = result.changed[0]
    return (
        f"Your function changed its argument `{name}` {during} (from {_text(result.case[name])} to "
        f"{_text(result.given[name])}). The checker gives every call its own copy, so the answers were compared "
        f"with the original, but code that uses `{name}` after calling your function sees it changed; work on a "
        f"copy (`.clone()`, `list(...)`) or without changing it."
    )


def _where_in_student_code(error: BaseException) -> str:
    """``" (line 4: `return x[i + j]`)"`` for the last line of the student's own code in the traceback."""
    frames = traceback.extract_tb(error.__traceback__)
    own = [f for f in frames if not f.filename.startswith(_NOT_STUDENTS)]
    if not own:
        return ""
    frame = own[-1]
    line = (frame.line or "").strip()  # extract_tb read it with linecache; "" where no source is at hand
    return f" (line {frame.lineno}: `{line}`)" if line else ""


_ERROR_ADVICE = {
    IndexError: "an index ran past the end: check the range of your loop against the length it indexes",
    NameError: "a name your function uses is not defined: check its spelling, or run the cell that defines it",
    ZeroDivisionError: "a division by zero: check what you divide by for this case",
    RecursionError: "your function calls itself without end",
}


def _require_function(student, exercise: Exercise, check_name: str) -> None:
    params = ", ".join(exercise.cases[0]) if exercise.cases else ""
    if not callable(student):
        if student is Ellipsis or student is None:
            extra = ""
        else:
            extra = ": pass the function itself, without calling it (no parentheses after its name)"
        raise ExerciseFailed(
            f"{check_name} checks a function, e.g. {check_name}({exercise.name}); it was given "
            f"{describe(student)}{extra}"
        )
    try:
        signature = inspect.signature(student)
    except (TypeError, ValueError):  # a builtin without a signature: the call will tell
        return
    try:
        signature.bind(*exercise.cases[0].values())
    except TypeError:
        raise ExerciseFailed(
            f"the checker calls {exercise.name}({params}) with {len(exercise.cases[0])} arguments in this "
            f"order, but your function takes {signature}: give it these parameters"
        ) from None


def _named(exercise: Exercise, results: list[_Result], wrong: list[_Result]) -> tuple[str, _Result] | None:
    """The first mistake that explains every answer, else the first that explains the first wrong answer."""
    answer = exercise.answer
    verdicts = {}

    def verdict(mistake: Mistake, result: _Result) -> bool | None:
        key = (id(mistake), id(result))
        if key not in verdicts:
            verdicts[key] = _verdict(mistake, result, answer, wrong=result in wrong)
        return verdicts[key]

    for mistake in exercise.mistakes:
        if mistake.gives is None and mistake.when is None:
            continue
        seen_wrong = False
        for result in results:
            found = verdict(mistake, result)
            if found is False:
                break
            seen_wrong |= found is True and result in wrong
        else:
            if seen_wrong:
                return mistake.hint, next(r for r in wrong if verdict(mistake, r))
    for mistake in exercise.mistakes:
        if (mistake.gives is not None or mistake.when is not None) and verdict(mistake, wrong[0]):
            return mistake.hint, wrong[0]
    return None


def _verdict(mistake: Mistake, result: _Result, answer, wrong: bool) -> bool | None:
    """Whether ``result`` shows ``mistake``; None where the mistake says nothing about it."""
    if mistake.when is not None:
        if not wrong:
            return None
        try:
            return bool(mistake.when(result.case, result.got, result.expected))
        except Exception:  # a test that does not apply to this answer's shape
            return False
    try:
        value = mistake.gives(**copy.deepcopy(result.case))
        if value is None:
            return None
        value = answer.read(value)
    except Exception:  # the mistake's arithmetic breaks down for this case: it does not apply
        return None
    try:
        return answer.equal(result.got, value)
    except Exception:
        return False


def _report(exercise: Exercise, result: _Result, hint: str, wrong: int, total: int) -> str:
    answer = exercise.answer
    expected = (
        exercise.show_expected(result.case, result.expected) if exercise.show_expected else answer.show(result.expected)
    )
    off = ""
    if isinstance(result.got, int) and isinstance(result.expected, int):
        off = f", off by {result.got - result.expected:+,}"
    counts = f" ({wrong} of {total} cases wrong{off})" if total > 1 else (f" ({off[2:]})" if off else "")
    if not result.case:  # a value exercise: the expected value is the answer, so it is not shown
        return f"your answer, {answer.show(result.got)}, is not it. Hint: {hint.rstrip('.')}."
    where = f"for {show_case(result.case)}: "
    got = answer.show(result.got)
    if exercise.show_expected is None and got == expected:  # they differ beyond the digits shown: show more
        expected, got = answer.show(result.expected, precise=True), answer.show(result.got, precise=True)
    if isinstance(result.got, torch.Tensor) and isinstance(result.expected, torch.Tensor):
        if result.got.shape != result.expected.shape:
            got += f" (shape {tuple(result.got.shape)}, the answer's is {tuple(result.expected.shape)})"
    text = f"{where}expected {expected}, got {got}{counts}. Hint: {hint.rstrip('.')}."
    if result.changed:
        text += " " + _changed_note(result, "too")
    return text


def _explain(exercise: Exercise, results: list[_Result], wrong: list[_Result]) -> str:
    named = _named(exercise, results, wrong)
    if named is not None:
        hint, shown = named
    else:
        shown = wrong[0]
        hint = exercise.answer.shape_hint(shown.got, shown.expected) or exercise.hint
    return _report(exercise, shown, hint, len(wrong), len(results))


def _unreadable(exercise: Exercise, odd: list[tuple[_Result, Any, Unreadable]], subject: str) -> str:
    """The first answer of the wrong kind, with the named mistake that explains all of them (else the first)."""
    raw = [m for m in exercise.mistakes if m.raw is not None]
    shows = {id(m): [_safe(m.raw, r.case, value, r.expected) for r, value, _ in odd] for m in raw}
    mistake = next((m for m in raw if all(shows[id(m)])), None) or next((m for m in raw if shows[id(m)][0]), None)
    result, _, problem = odd[0]
    expected = (
        exercise.show_expected(result.case, result.expected)
        if exercise.show_expected
        else exercise.answer.show(result.expected)
    )
    if result.case:
        text = f"for {show_case(result.case)}, {subject} {problem.what}; "
        text += f"{exercise.answer.words} is expected ({expected}). "
    else:  # a value exercise: the expected value is the answer, so it is not shown
        text = f"{subject} {problem.what}; {exercise.answer.words} is expected. "
    advice = mistake.hint if mistake else problem.advice[0].upper() + problem.advice[1:]
    text += f"Hint: {advice.rstrip('.')}." if mistake else f"{advice.rstrip('.')}."
    if result.changed:
        text += " " + _changed_note(result, "too")
    return text


def _safe(test: Callable, *args) -> bool:
    try:
        return bool(test(*args))
    except Exception:  # a recogniser that does not apply to this value
        return False


def _passed(exercise: Exercise, results: list[_Result], **details) -> None:
    print(exercise.passed.format(name=exercise.name, count=len(results), **details))
    changed = next((r for r in results if r.changed), None)
    if changed is not None:
        note = _changed_note(changed, f"for {show_case(changed.case)}")
        print(f"  note: {note[0].lower()}{note[1:]}")


def _raised(exercise: Exercise, call: str, error: Exception, results: list[_Result]) -> str:
    """A case that raised; a named mistake the earlier answers show comes first."""
    wrong = [r for r in results if not exercise.answer.equal(r.got, r.expected)]
    named = _named(exercise, results, wrong) if wrong else None
    raised = f"{type(error).__name__}: {error}{_where_in_student_code(error)}"
    if named is not None:
        text = _report(exercise, named[1], named[0], len(wrong), len(results))
        return f"{text} (On a later case, {call} raised {raised}.)"
    advice = next((a for kind, a in _ERROR_ADVICE.items() if isinstance(error, kind)), None)
    return f"{call} raised {raised}" + (f". Hint: {advice}." if advice else "")


def check_function(exercise: Exercise, student, check_name: str, time_limit: float | None = None) -> None:
    """Run ``student`` on every case of ``exercise``; print the pass line or raise :class:`ExerciseFailed`.

    The first case that returns None or an answer of the wrong kind is reported (with the named mistake that
    explains all such answers); else a case that ran out of time or raised; else the wrong answers.
    """
    # long: the one loop of the core, each case in the order the module docstring gives; split, it reads worse
    _require_function(student, exercise, check_name)
    seconds = TIME_LIMIT if time_limit is None else time_limit
    results: list[_Result] = []
    odd: list[tuple[_Result, Any, Unreadable | None]] = []  # None, or an answer of the wrong kind
    stopped = None  # the message for a case that ran out of time or raised: no later case runs
    with TimeLimit(seconds) as limit:
        for case in exercise.cases:
            expected = exercise.reference(**copy.deepcopy(case))
            given = copy.deepcopy(case)
            call = f"{exercise.name}({show_case(case)})"
            try:
                value = limit.call(student, tuple(given.values()))
            except NotImplementedError:
                raise ExerciseFailed(
                    f"{exercise.name} is not written yet: replace the `raise NotImplementedError` with your code"
                ) from None
            except _OutOfTime:
                stopped = (
                    f"{call} did not return within {seconds:g} s: does a loop never end? A `while` loop needs a "
                    f"condition that becomes False (or a `break`); a `for` loop over range(...) always ends"
                )
                break
            except Exception as error:  # the student's code may raise anything: report it with its case
                stopped = _raised(exercise, call, error, results)
                break
            result = _Result(case, expected, None, [k for k in case if not _same(case[k], given[k])], given)
            if value is None:  # said at once: running on would only repeat the student's prints
                odd.append((result, value, None))
                break
            try:
                result.got = exercise.answer.read(value)
            except Unreadable as problem:
                odd.append((result, value, problem))
                continue
            results.append(result)
    if odd and odd[0][2] is None:
        raise ExerciseFailed(
            f"{exercise.name}({show_case(odd[0][0].case)}) returned None: did you forget `return`? (print shows "
            f"a value; only return gives it back)"
        )
    if odd:
        unreadable = [entry for entry in odd if entry[2] is not None]
        raise ExerciseFailed(_unreadable(exercise, unreadable, "your function returned"))
    if stopped is not None:
        raise ExerciseFailed(stopped)
    wrong = [r for r in results if not exercise.answer.equal(r.got, r.expected)]
    if wrong:
        raise ExerciseFailed(_explain(exercise, results, wrong))
    _passed(exercise, results)


def check_value(exercise: Exercise, value, **details) -> None:
    """Check a value answer (``exercise.cases`` is ``[{}]``); print the pass line or raise :class:`ExerciseFailed`."""
    expected = exercise.reference()
    result = _Result({}, expected, None)
    if value is Ellipsis:
        raise ExerciseFailed(f"`{exercise.name}` is not written yet: replace the `...` with your answer")
    if value is None:
        raise ExerciseFailed(
            f"your answer is None; {exercise.answer.words} is expected: assign the value itself "
            f"(`{exercise.name} = ...`), not the result of print(...) or of a function without `return`"
        )
    if callable(value) and not isinstance(value, torch.Tensor):
        raise ExerciseFailed(
            f"your answer is {describe(value)}; this exercise asks for a value ({exercise.answer.words}), "
            f"not a function"
        )
    try:
        result.got = exercise.answer.read(value)
    except Unreadable as problem:
        raise ExerciseFailed(_unreadable(exercise, [(result, value, problem)], "your answer is")) from None
    if not exercise.answer.equal(result.got, expected):
        raise ExerciseFailed(_explain(exercise, [result], [result]))
    _passed(exercise, [result], **details)
