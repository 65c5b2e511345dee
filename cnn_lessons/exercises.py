"""Checkers for the lessons' exercises: run the student's function on many cases and say exactly what is off.

Each ``check_*`` function prints one line when everything is right and raises :class:`ExerciseFailed` (an
``AssertionError``) with the failing case, what was expected, what came back and a hint otherwise. The
reference answers come from :mod:`cnn_lessons.arithmetic` and :mod:`cnn_lessons.ops`, which the project's tests
check against PyTorch.

In a lesson, an exercise is a cell tagged ``solution`` (the stored notebooks show it solved; ``cnn-lessons
student-copy`` replaces the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` with a starter) followed
by a cell calling the checker.
"""

from __future__ import annotations

import itertools
import random

import torch
import torch.nn.functional as F

from cnn_lessons import arithmetic, ops

__all__ = [
    "ExerciseFailed",
    "check_correlate1d",
    "check_convolve2d",
    "check_flipped_kernel",
    "check_output_size",
    "check_same_padding",
    "check_transposed_output_size",
    "check_conv_parameter_count",
    "check_receptive_field",
    "check_basic_block_parameters",
    "check_flatten_size",
    "check_cross_entropy",
]


class ExerciseFailed(AssertionError):
    """A wrong answer; the message names the failing case, the expected and the given result, and a hint."""


def _passed(name: str, count: int) -> None:
    print(f"\u2713 {name}: correct on all {count} cases")


def _call(fn, name: str, args: dict):
    shown = ", ".join(f"{k}={_show(v)}" for k, v in args.items())
    try:
        return fn(*args.values())
    except NotImplementedError:
        raise ExerciseFailed(
            f"{name} is not written yet: replace the `raise NotImplementedError` with your code"
        ) from None
    except Exception as error:  # the student's code may raise anything; report it with the case
        raise ExerciseFailed(f"{name}({shown}) raised {type(error).__name__}: {error}") from None


def _show(value) -> str:
    if isinstance(value, torch.Tensor):
        return str(value.tolist())
    return repr(value)


def _as_tensor(value, name: str, args: dict) -> torch.Tensor:
    try:
        return torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise ExerciseFailed(
            f"{name} should return a list or tensor of numbers; for {args} it returned {value!r}"
        ) from None


# --- lesson 01 ----------------------------------------------------------------------------------------------


def _signal_cases(seed: int = 0, count: int = 40):
    rng = random.Random(seed)
    yield torch.tensor([0.0, 1, 3, 2, 0, 0, 4, 1]), torch.tensor([1.0, 2, -1])
    yield torch.tensor([1.0, 2, 3]), torch.tensor([5.0, -1, 2])  # kernel as long as the signal: one output
    for _ in range(count - 2):
        n, k = rng.randint(1, 12), rng.randint(1, 5)
        if k > n:
            n, k = k, n
        yield (
            torch.tensor([float(rng.randint(-5, 5)) for _ in range(n)]),
            torch.tensor([float(rng.randint(-3, 3)) for _ in range(k)]),
        )


def check_correlate1d(student_correlate1d) -> None:
    """Exercise: 1-D cross-correlation with loops, 'valid' positions, stride 1 (``out[i] = sum_j x[i+j] w[j]``)."""
    name = "correlate1d"
    cases = list(_signal_cases())
    for signal, kernel in cases:
        args = {"signal": signal, "kernel": kernel}
        got = _as_tensor(_call(student_correlate1d, name, args), name, args)
        expected = ops.correlate1d(signal, kernel).double()
        if got.shape != expected.shape:
            raise ExerciseFailed(
                f"for a signal of {len(signal)} values and a kernel of {len(kernel)}, correlation has "
                f"n - k + 1 = {len(expected)} outputs (every position where the kernel fits), but yours returned "
                f"{got.numel()}: {got.tolist()}. Hint: loop i over range(len(signal) - len(kernel) + 1)."
            )
        if not torch.allclose(got, expected):
            flipped = ops.convolve1d(signal, kernel).double()
            hint = (
                "you flipped the kernel: that is convolution; correlation uses w[j] as it is"
                if torch.allclose(got, flipped)
                else "out[i] adds x[i + j] * w[j] for j in range(len(kernel))"
            )
            i = int((got - expected).abs().argmax())
            raise ExerciseFailed(
                f"for signal={signal.tolist()}, kernel={kernel.tolist()}: expected {expected.tolist()}, got "
                f"{got.tolist()} (first difference at out[{i}]). Hint: {hint}."
            )
    _passed(name, len(cases))


def check_convolve2d(student_convolve2d) -> None:
    """Exercise: true 2-D convolution ('valid', stride 1): flip the kernel along both axes, then correlate."""
    name = "convolve2d"
    rng = torch.Generator().manual_seed(1)
    cases = [(torch.arange(16.0).view(4, 4), torch.tensor([[1.0, 2], [3, 4]]))]
    for _ in range(29):
        h, w = torch.randint(1, 8, (2,), generator=rng).tolist()
        kh, kw = torch.randint(1, 4, (2,), generator=rng).tolist()
        kh, kw = min(kh, h), min(kw, w)
        cases.append(
            (
                torch.randint(-4, 5, (h, w), generator=rng).double(),
                torch.randint(-3, 4, (kh, kw), generator=rng).double(),
            )
        )
    for image, kernel in cases:
        args = {"image": image, "kernel": kernel}
        got = _as_tensor(_call(student_convolve2d, name, args), name, args)
        expected = ops.convolve2d(image, kernel).double()
        if got.shape != expected.shape:
            raise ExerciseFailed(
                f"a {tuple(image.shape)} image and a {tuple(kernel.shape)} kernel give a {tuple(expected.shape)} "
                f"output (h - kh + 1, w - kw + 1), but yours has shape {tuple(got.shape)}."
            )
        if not torch.allclose(got, expected):
            mistakes = {
                "you did not flip the kernel: that is correlation": ops.correlate2d(image, kernel),
                "you flipped the kernel up-down only; convolution flips both axes": ops.correlate2d(
                    image, kernel.flip(0)
                ),
                "you flipped the kernel left-right only; convolution flips both axes": ops.correlate2d(
                    image, kernel.flip(1)
                ),
            }
            if kernel.shape[0] == kernel.shape[1]:
                mistakes["you transposed the kernel; flipping is a half turn (kernel.flip(0, 1))"] = ops.correlate2d(
                    image, kernel.T
                )
            hint = next(
                (text for text, wrong in mistakes.items() if torch.allclose(got, wrong.double())),
                "flip the kernel with kernel.flip(0, 1), then add window * kernel over every window",
            )
            raise ExerciseFailed(
                f"for image={image.tolist()} and kernel={kernel.tolist()}: expected {expected.tolist()}, got "
                f"{got.tolist()}. Hint: {hint}."
            )
    _passed(name, len(cases))


def check_flipped_kernel(answer) -> None:
    """Exercise: the kernel that makes ``F.conv2d`` (a correlation) compute convolution with [[1, 2], [3, 4]]."""
    kernel = torch.tensor([[1.0, 2], [3, 4]])
    expected = kernel.flip(0, 1)
    got = _as_tensor(answer, "your answer", {})
    if got.shape != expected.shape:
        raise ExerciseFailed(f"the answer is a 2x2 kernel, like [[a, b], [c, d]]; yours has shape {tuple(got.shape)}")
    if torch.equal(got, kernel.T):
        raise ExerciseFailed(f"{got.tolist()} is the transpose; convolution turns the kernel half way round")
    if not torch.equal(got, expected):
        raise ExerciseFailed(
            f"{got.tolist()} is not it: convolution reads the kernel backwards along both axes, so its top-left "
            f"weight meets the bottom-right of each window. Check by comparing F.conv2d with your kernel and "
            f"ops.convolve2d with [[1, 2], [3, 4]] on any image."
        )
    print(f"\u2713 correlating with {got.int().tolist()} convolves with {kernel.int().tolist()}")


# --- lesson 02 ----------------------------------------------------------------------------------------------


def _size_cases():
    for i, k, s, p, d in itertools.product((1, 2, 5, 6, 7, 10, 13), (1, 2, 3, 4), (1, 2, 3), (0, 1, 2), (1, 2, 3)):
        if i + 2 * p >= d * (k - 1) + 1:
            yield {"size": i, "kernel_size": k, "stride": s, "padding": p, "dilation": d}


def check_output_size(student_output_size) -> None:
    """Exercise: ``output_size(size, kernel_size, stride, padding, dilation)`` as torch computes it."""
    name = "output_size"
    cases = list(_size_cases())
    answers = [_call(student_output_size, name, case) for case in cases]
    wrong = [
        (case, got) for case, got in zip(cases, answers, strict=True) if got != arithmetic.conv_output_size(**case)
    ]
    if wrong:
        guesses = {
            "you left out the + 1 (a window that fits exactly still gives one output)": lambda i, k, s, p, d: (
                (i + 2 * p - d * (k - 1) - 1) // s
            ),
            "you ignored dilation: the kernel spans d*(k-1)+1 positions": lambda i, k, s, p, d: (
                (i + 2 * p - k) // s + 1
            ),
            "you padded one side only: padding adds p zeros on each side": lambda i, k, s, p, d: (
                (i + p - d * (k - 1) - 1) // s + 1
            ),
            "you rounded up: the last window must fit, so round down (floor)": lambda i, k, s, p, d: (
                -(-(i + 2 * p - d * (k - 1) - 1) // s) + 1
            ),
        }
        # the mistake that explains every answer, not just the first wrong one
        hint = next(
            (
                text
                for text, guess in guesses.items()
                if all(got == guess(*case.values()) for case, got in zip(cases, answers, strict=True))
            ),
            "o = floor((i + 2p - d(k-1) - 1) / s) + 1",
        )
        case, got = wrong[0]
        expected = arithmetic.conv_output_size(**case)
        i, k, s, p, d = case.values()
        raise ExerciseFailed(
            f"your output size is off by {got - expected} for size={i}, kernel_size={k}, stride={s}, padding={p}, "
            f"dilation={d}: expected {expected}, got {got} ({len(wrong)} of {len(cases)} cases wrong). Hint: {hint}."
        )
    _passed(name, len(cases))


def check_same_padding(student_same_padding) -> None:
    """Exercise: ``same_padding(kernel_size, dilation) -> (left, right)`` as torch splits it."""
    name = "same_padding"
    cases = [{"kernel_size": k, "dilation": d} for k in range(1, 8) for d in range(1, 5)]
    for case in cases:
        got = _call(student_same_padding, name, case)
        expected = arithmetic.same_padding(**case)
        if not isinstance(got, (tuple, list)) or tuple(got) != expected:
            k, d = case.values()
            total = d * (k - 1)
            hint = (
                "the total must be d*(k-1), so that a stride-1 output keeps the input size"
                if not isinstance(got, (tuple, list)) or sum(got) != total
                else "torch puts the smaller half on the left: left = total // 2, right = total - left"
            )
            raise ExerciseFailed(
                f"for kernel_size={k}, dilation={d}: expected (left, right) = {expected}, got {got!r}. Hint: {hint}."
            )
    _passed(name, len(cases))


def check_transposed_output_size(student_transposed_size) -> None:
    """Exercise: ``transposed_size(size, kernel_size, stride, padding, output_padding)`` (relationship 14)."""
    name = "transposed_size"
    cases = [
        {"size": i, "kernel_size": k, "stride": s, "padding": p, "output_padding": a}
        for i, k, s, p in itertools.product(range(1, 7), range(1, 5), range(1, 4), range(3))
        for a in range(s)
        if (i - 1) * s - 2 * p + (k - 1) + a + 1 >= 1
    ]
    for case in cases:
        got = _call(student_transposed_size, name, case)
        expected = arithmetic.conv_transpose_output_size(**case)
        if got != expected:
            i, k, s, p, a = case.values()
            raise ExerciseFailed(
                f"for size={i}, kernel_size={k}, stride={s}, padding={p}, output_padding={a}: expected {expected}, "
                f"got {got}. Hint: o' = s(i' - 1) + a + k - 2p: the stride spreads the inputs, the kernel adds k - 1, "
                f"padding crops p from each side and output_padding adds a at the end."
            )
    _passed(name, len(cases))


# --- lessons 03 and 04 --------------------------------------------------------------------------------------


def check_conv_parameter_count(student_count) -> None:
    """Exercise: ``parameters(in_channels, out_channels, kernel_size, bias, groups)`` of an ``nn.Conv2d``."""
    name = "parameters"
    cases = [
        {"in_channels": cin, "out_channels": cout, "kernel_size": k, "bias": bias, "groups": g}
        for cin, cout, k, bias, g in itertools.product((1, 3, 8, 32), (4, 8, 32), (1, 3, 5), (True, False), (1, 2, 4))
        if cin % g == 0 and cout % g == 0
    ]
    for case in cases:
        got = _call(student_count, name, case)
        expected = arithmetic.conv_parameter_count(**case)
        if got != expected:
            cin, cout, k, bias, g = case.values()
            guesses = {
                "you forgot the biases: one per output channel": expected - cout * int(bias),
                "each kernel sees in_channels / groups channels, not all of them": (cin * k * k + int(bias)) * cout,
                "a k x k kernel has k*k weights per input channel, not k": (cin // g * k + int(bias)) * cout,
            }
            hint = next((text for text, wrong in guesses.items() if got == wrong), "(in/groups * k * k + bias) * out")
            raise ExerciseFailed(
                f"for in_channels={cin}, out_channels={cout}, kernel_size={k}, bias={bias}, groups={g}: expected "
                f"{expected:,}, got {got!r}. Hint: {hint}."
            )
    _passed(name, len(cases))


def check_receptive_field(student_receptive_field) -> None:
    """Exercise: ``receptive_field(layers)`` for a list of (kernel_size, stride) layers, first layer first."""
    name = "receptive_field"
    rng = random.Random(4)
    cases = [[(3, 1), (3, 1)], [(7, 2), (3, 2)], [(2, 2), (3, 1)]]
    cases += [[(rng.randint(1, 7), rng.randint(1, 3)) for _ in range(rng.randint(1, 5))] for _ in range(40)]
    for layers in cases:
        got = _call(student_receptive_field, name, {"layers": layers})
        expected = arithmetic.receptive_field(layers)
        if got != expected:
            no_strides = 1 + sum(k - 1 for k, _ in layers)
            hint = (
                "strides matter: after a stride-s layer, one step of the next layer covers s input positions"
                if got == no_strides
                else "r = 1 + sum over layers of (k_l - 1) times the product of the strides before layer l"
            )
            raise ExerciseFailed(f"for layers={layers}: expected {expected}, got {got!r}. Hint: {hint}.")
    _passed(name, len(cases))


def check_basic_block_parameters(answer) -> None:
    """Exercise: the parameters of ResNet's basic block with 64 channels (two 3x3 convs without bias, two BNs)."""
    conv = arithmetic.conv_parameter_count(64, 64, 3, bias=False)
    batch_norm = 2 * 64  # a scale and a shift per channel
    expected = 2 * conv + 2 * batch_norm
    if answer == expected:
        print(f"\u2713 2 x {conv:,} (3x3 convolutions) + 2 x {batch_norm} (batch norms) = {expected:,}")
        return
    hints = {
        2 * conv: "you left out the batch norms: each has a scale and a shift per channel",
        2 * arithmetic.conv_parameter_count(64, 64, 3) + 2 * batch_norm: "the convolutions have no bias (BN follows)",
        conv + batch_norm: "the block has two convolutions and two batch norms",
    }
    raise ExerciseFailed(
        f"{answer!r} is not it. Hint: {hints.get(answer, 'count each 3x3 convolution (64*64*9 weights) and each BN')}."
    )


# --- lesson 03: the flatten size of a conv stack, and cross-entropy from logits ------------------------------------


def _flatten_trace(size, conv_channels, kernel_size, padding, pool) -> tuple[int, str]:
    """The flatten size of the stack and how it comes about ("28 -> conv 24 -> pool 12"), by arithmetic."""
    steps = [str(size)]
    for _ in conv_channels:
        size = arithmetic.conv_output_size(size, kernel_size, padding=padding)
        steps.append(f"conv {size}")
        if pool is not None:
            size = arithmetic.pool_output_size(size, pool)
            steps.append(f"pool {size}")
    channels = conv_channels[-1]
    return channels * size * size, f"{channels} x {size} x {size} ({' -> '.join(steps)})"


def _flatten_guess(size, conv_channels, kernel_size, padding, pool, mistake: str) -> int | None:
    """What a common mistake gives for the flatten size (None where that arithmetic breaks down)."""
    sides = 1 if mistake == "one side" else 2
    padding = 0 if mistake == "no padding" else padding
    for _ in conv_channels:
        if mistake != "no shrink":
            size = size + sides * padding - kernel_size + 1
        if pool is not None and mistake != "no pool":
            size = -(-size // pool) if mistake == "ceil" else size // pool
        if size < 1:
            return None
    channels = {"no channels": 1, "first channels": conv_channels[0]}.get(mistake, conv_channels[-1])
    return channels * size * (1 if mistake == "not squared" else size)


_FLATTEN_HINTS = {
    "no channels": "multiply by the channels of the last block: flatten keeps every channel of the map",
    "first channels": "the map that is flattened comes out of the LAST block: use conv_channels[-1]",
    "not squared": "the map is square: channels x height x width, with height = width",
    "no pool": "you left out the pooling: a p x p max-pool divides each side by p",
    "ceil": "a max-pool rounds down (floor): a window that does not fit is dropped",
    "no padding": "padding adds zeros around the map before each convolution: size + 2p - k + 1",
    "one side": "padding adds p zeros on EACH side: size + 2p - k + 1",
    "no shrink": "a convolution without enough padding shrinks the map: size + 2p - k + 1",
}


def _flatten_cases():
    for size, conv_channels, kernel_size, padding, pool in itertools.product(
        (8, 13, 28, 32), ((6,), (8, 16), (4, 8, 16)), (3, 5), (0, 1, 2), (2, 3, None)
    ):
        case = {
            "size": size,
            "conv_channels": conv_channels,
            "kernel_size": kernel_size,
            "padding": padding,
            "pool": pool,
        }
        try:
            _flatten_trace(**case)
        except ValueError:  # the map vanishes: no flatten size to ask for
            continue
        yield case


def check_flatten_size(student_flatten_size) -> None:
    """Exercise: ``flatten_size(size, conv_channels, kernel_size, padding, pool)`` of a stack of conv blocks.

    A square ``size`` x ``size`` input goes through one block per entry of ``conv_channels``: a
    ``kernel_size`` convolution (stride 1, ``padding`` zeros on every side) with that many output channels,
    then (unless ``pool`` is None) a ``pool`` x ``pool`` max-pool. The answer is the number of features the
    first linear layer receives after ``nn.Flatten``.
    """
    name = "flatten_size"
    cases = list(_flatten_cases())
    answers = [_call(student_flatten_size, name, case) for case in cases]
    wrong = [(case, got) for case, got in zip(cases, answers, strict=True) if got != _flatten_trace(**case)[0]]
    if wrong:
        hint = next(
            (
                text
                for mistake, text in _FLATTEN_HINTS.items()
                if all(got == _flatten_guess(**case, mistake=mistake) for case, got in zip(cases, answers, strict=True))
            ),
            None,
        )
        case, got = wrong[0]
        if hint is None:  # no one mistake explains every answer: name the one that explains the first wrong one
            hint = next(
                (text for mistake, text in _FLATTEN_HINTS.items() if got == _flatten_guess(**case, mistake=mistake)),
                "per block, conv: size + 2p - k + 1, then pool: size // p; at the end channels x size x size",
            )
        expected, how = _flatten_trace(**case)
        shown = ", ".join(f"{k}={v!r}" for k, v in case.items())
        raise ExerciseFailed(
            f"for {shown}: expected {expected:,} = {how}, got {got!r} ({len(wrong)} of {len(cases)} cases wrong). "
            f"Hint: {hint}."
        )
    _passed(name, len(cases))


def _cross_entropy_cases():
    rng = torch.Generator().manual_seed(3)
    cases = [(torch.tensor([[2.0, 1.0, 0.1]], dtype=torch.float64), torch.tensor([0]))]
    for _ in range(20):
        n, c = int(torch.randint(1, 5, (1,), generator=rng)), int(torch.randint(2, 7, (1,), generator=rng))
        logits = (torch.randn(n, c, generator=rng, dtype=torch.float64) * 3).round(decimals=1)
        cases.append((logits, torch.randint(0, c, (n,), generator=rng)))
    # large logits: exp overflows unless the row's maximum is taken out first
    cases.append(
        (torch.tensor([[1000.0, 0.0, -5.0], [10.0, 1010.0, 1000.0]], dtype=torch.float64), torch.tensor([0, 2]))
    )
    cases.append((torch.tensor([[-1000.0, -1002.0]], dtype=torch.float64), torch.tensor([1])))
    return cases


def check_cross_entropy(student_cross_entropy) -> None:
    """Exercise: ``cross_entropy(logits, labels)``, the mean over the batch of -log softmax(logits)[label],
    as ``F.cross_entropy`` computes it, and without overflow for large logits."""
    name = "cross_entropy"
    cases = _cross_entropy_cases()
    for logits, labels in cases:
        args = {"logits": logits, "labels": labels}
        got = _as_tensor(_call(student_cross_entropy, name, args), name, args)
        expected = F.cross_entropy(logits, labels)
        shown = f"logits={logits.tolist()}, labels={labels.tolist()}"
        per_example = F.cross_entropy(logits, labels, reduction="none")
        if got.numel() != 1:
            hint = (
                "these are the per-example losses: return their mean"
                if got.shape == per_example.shape and torch.allclose(got, per_example)
                else "the loss is one number, the mean over the batch"
            )
            raise ExerciseFailed(
                f"for {shown}: expected one number, {expected.item():.6g}; got shape {tuple(got.shape)}. Hint: {hint}."
            )
        got = got.reshape(())
        if torch.isclose(got, expected, rtol=1e-6, atol=1e-9):
            continue
        picked = logits.gather(1, labels[:, None])[:, 0]
        mistakes = {
            "exp overflowed (exp(1000) is inf in floating point): subtract each row's maximum from its logits "
            "before exp; the softmax does not change (the log-sum-exp trick)": not torch.isfinite(got),
            "you returned the sum over the batch: F.cross_entropy averages": torch.isclose(got, per_example.sum()),
            "the loss is MINUS the log-probability of the right class": torch.isclose(got, -expected),
            "the logits are not probabilities: take the log-softmax (subtract the log of the sum of exp over "
            "the classes) before picking the label's entry": torch.isclose(got, -picked.mean()),
            "the softmax runs over the classes (dim=1), not over the batch (dim=0)": torch.isclose(
                got, -torch.log_softmax(logits, dim=0).gather(1, labels[:, None]).mean()
            ),
        }
        hint = next((text for text, wrong in mistakes.items() if bool(wrong)), None)
        hint = hint or "mean over the batch of logsumexp(logits[i]) - logits[i, labels[i]]"
        raise ExerciseFailed(f"for {shown}: expected {expected.item():.6g}, got {got.item():.6g}. Hint: {hint}.")
    print(f"\u2713 {name}: correct on all {len(cases)} cases, including logits of \u00b11000")
