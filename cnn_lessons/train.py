"""Training a classifier: a small fit loop, evaluation, curves, and lesson 03's recipe for the digits.

- :func:`fit`: mini-batch training with AdamW on the cross-entropy of the logits, a progress bar, and a
  :class:`History` of the loss and accuracies per epoch. CPU or CUDA; deterministic on CPU for a seed.
- :func:`evaluate` (accuracy) and :func:`predict` (labels), in eval mode and without gradients.
- :func:`plot_history`: loss and accuracy curves on a ``matplotlib.figure.Figure``.
- :func:`train_digits_cnn`: the lesson's CNN for scikit-learn's 8x8 digits (:data:`DIGITS_CNN`) trained
  with :data:`DIGITS_TRAINING`; shared by the notebook and ``benchmarks/train_digits.py``.
"""

from __future__ import annotations

import contextlib
import functools
import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from cnn_lessons.data import load_digits_split, random_shifts, shift_images, shifts_and_rotations
from cnn_lessons.models import SimpleCNN

__all__ = [
    "History",
    "default_device",
    "fit",
    "evaluate",
    "predict",
    "plot_history",
    "DIGITS_CNN",
    "DIGITS_TRAINING",
    "digits_cnn",
    "train_digits_cnn",
    "ABLATION_CONFIGS",
    "ABLATION_TRAINING",
    "ONE_PIXEL_SHIFTS",
    "ablation_cnn",
    "shifted_accuracy",
    "AblationRun",
    "run_ablation",
]


@dataclass
class History:
    """What :func:`fit` measured, one entry per epoch.

    ``train_loss``: mean cross-entropy over the epoch's training batches (the loss being minimised, label
    smoothing included). ``train_accuracy``: accuracy on those batches as they were seen (augmented, with the
    weights of the moment). ``test_accuracy``: accuracy on the test data after the epoch (empty without test
    data). ``seconds``: wall time of each epoch, evaluation included.
    """

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds)


def default_device() -> torch.device:
    """CUDA when a GPU is available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _check_pair(name: str, data) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{name} must be an (images, labels) pair, got {type(data).__name__}")
    images, labels = torch.as_tensor(data[0]), torch.as_tensor(data[1])
    if images.shape[:1] != labels.shape or labels.ndim != 1:
        raise ValueError(
            f"{name}: images and labels must have one label per image, got images of shape {tuple(images.shape)} "
            f"and labels of shape {tuple(labels.shape)}"
        )
    if labels.dtype.is_floating_point:
        raise TypeError(f"{name}: labels must be integer class indices, got {labels.dtype}")
    return images, labels.long()


def _positive(name: str, value, kind=numbers.Integral):
    if isinstance(value, bool) or not isinstance(value, kind) or value <= 0:
        raise ValueError(
            f"{name} must be a positive {'whole number' if kind is numbers.Integral else 'number'}, got {value!r}"
        )
    return value


def fit(
    model: nn.Module,
    train_data: tuple[torch.Tensor, torch.Tensor],
    test_data: tuple[torch.Tensor, torch.Tensor] | None = None,
    *,
    epochs: int = 10,
    lr: float = 1e-3,
    batch_size: int = 64,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.0,
    augment: Callable[..., torch.Tensor] | None = None,
    schedule: str = "one-cycle",
    device: torch.device | str | None = None,
    seed: int = 0,
    progress: bool = True,
    num_threads: int | None = 1,
    desc: str = "training",
) -> History:
    """Train ``model`` (in place) to classify ``train_data``; return the per-epoch :class:`History`.

    Each epoch: optionally augment the training images (``augment(images, generator=...)``, e.g.
    ``functools.partial(cnn_lessons.data.random_shifts, max_shift=1)``), shuffle them, and for each batch of
    ``batch_size``: logits = model(images), loss = cross-entropy(logits, labels) (``F.cross_entropy`` takes
    logits: it applies the softmax itself), ``loss.backward()`` fills every parameter's ``.grad``, and the
    AdamW optimizer steps. ``schedule="one-cycle"`` warms the learning rate up to ``lr`` and anneals it to
    almost 0 (``OneCycleLR``); ``"constant"`` keeps it at ``lr``. Then the test accuracy is measured.

    ``train_data``/``test_data``: ``(images, labels)`` pairs of tensors (labels: class indices).
    ``device``: where to train, by default CUDA when available (:func:`default_device`); the model is moved
    there. ``seed`` fixes the shuffling and augmentation (a ``torch.Generator``) and torch's global RNG
    (dropout), so a CPU run repeats exactly; seed torch before building the model to fix its initial weights.
    ``progress``: one ``tqdm`` bar labelled ``desc``, advanced per epoch, showing loss and accuracies.

    ``num_threads``: CPU threads torch uses during the fit, restored afterwards; ``None`` keeps torch's
    setting (one per core). The default, 1, suits the lessons' small networks: their layers are too small to
    split over cores, and when other programs keep the cores busy, threads that wait for each other made
    the digits CNN ten times slower (90 s instead of 6 s on a shared 2-core machine).
    """
    # long: the training loop reads top to bottom as lesson 03 explains it (epochs, batches, evaluation, history)
    train_images, train_labels = _check_pair("train_data", train_data)
    test = None if test_data is None else _check_pair("test_data", test_data)
    epochs, batch_size = _positive("epochs", epochs), _positive("batch_size", batch_size)
    lr = _positive("lr", lr, numbers.Real)
    if schedule not in ("one-cycle", "constant"):
        raise ValueError(f"schedule must be 'one-cycle' or 'constant', got {schedule!r}")
    device = default_device() if device is None else torch.device(device)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps_per_epoch = -(-len(train_labels) // batch_size)
    scheduler = None
    if schedule == "one-cycle":
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch)
    history = History()
    threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(_positive("num_threads", num_threads))
    try:
        with _epoch_bar(epochs, desc, progress) as bar:
            for _ in range(epochs):
                start = time.perf_counter()
                model.train()
                images = train_images if augment is None else augment(train_images, generator=generator)
                order = torch.randperm(len(train_labels), generator=generator)
                loss_sum = torch.zeros((), device=device)
                correct = torch.zeros((), device=device, dtype=torch.long)
                for first in range(0, len(order), batch_size):
                    batch = order[first : first + batch_size]
                    x, y = images[batch].to(device), train_labels[batch].to(device)
                    logits = model(x)
                    loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    if scheduler is not None:
                        scheduler.step()
                    loss_sum += loss.detach() * len(batch)
                    correct += (logits.argmax(dim=1) == y).sum()
                history.train_loss.append(loss_sum.item() / len(order))
                history.train_accuracy.append(correct.item() / len(order))
                postfix = {"loss": f"{history.train_loss[-1]:.3f}", "train_acc": f"{history.train_accuracy[-1]:.3f}"}
                if test is not None:
                    history.test_accuracy.append(evaluate(model, *test))
                    postfix["test_acc"] = f"{history.test_accuracy[-1]:.3f}"
                history.seconds.append(time.perf_counter() - start)
                bar.set_postfix(postfix, refresh=False)
                bar.update()
    finally:
        torch.set_num_threads(threads)
    return history


@contextlib.contextmanager
def _epoch_bar(epochs: int, desc: str, progress: bool):
    """tqdm's bar over the epochs; in Jupyter it becomes its last line of text once every epoch has run.

    A stored notebook then shows how the training ended where there is no live widget (GitHub, nbviewer, HTML
    exports), not a progress bar frozen at 0%.
    """
    import IPython.display  # imported here: only a Jupyter kernel needs it
    from tqdm import auto, notebook  # imported here: tqdm.auto looks for Jupyter widgets when imported

    in_jupyter = progress and issubclass(auto.tqdm, notebook.tqdm)
    options = {"display": False} if in_jupyter else {}
    bar = auto.tqdm(total=epochs, desc=desc, unit="epoch", disable=not progress, **options)
    shown = IPython.display.display(bar.container, display_id=True) if in_jupyter else None
    try:
        yield bar
    finally:
        bar.close()
    if shown is not None:  # every epoch ran (an interrupted bar stays, marked red by tqdm)
        shown.update(IPython.display.Pretty(str(bar)))


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """The class the model scores highest for each image (int64, on the CPU), computed in eval mode.

    The images go to the model's device in batches of ``batch_size``; the model's train/eval mode is
    restored afterwards.
    """
    images = torch.as_tensor(images)
    batch_size = _positive("batch_size", batch_size)
    device, was_training = _model_device(model), model.training
    model.eval()
    try:
        labels = [
            model(images[i : i + batch_size].to(device)).argmax(dim=1).cpu() for i in range(0, len(images), batch_size)
        ]
    finally:
        model.train(was_training)
    return torch.cat(labels) if labels else torch.empty(0, dtype=torch.long)


def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1024) -> float:
    """Accuracy of ``model`` on ``(images, labels)``: the fraction of images whose top class is the label."""
    images, labels = _check_pair("(images, labels)", (images, labels))
    if len(labels) == 0:
        raise ValueError("evaluate needs at least one image")
    return (predict(model, images, batch_size) == labels.cpu()).double().mean().item()


def plot_history(history: History, axes=None):
    """Loss and accuracy per epoch, side by side; returns the ``matplotlib.figure.Figure``.

    ``axes``: two matplotlib ``Axes`` (loss, accuracy) to draw into; by default a new ``Figure`` (not
    registered with pyplot) is made. Jupyter shows a returned figure.
    """
    if axes is None:
        from matplotlib.figure import Figure  # imported here: training needs no matplotlib

        figure = Figure(figsize=(9, 3.2), layout="constrained")
        axes = figure.subplots(1, 2)
    loss_ax, accuracy_ax = axes
    epochs = range(1, history.epochs + 1)
    loss_ax.plot(epochs, history.train_loss, marker="o", markersize=3, label="train loss")
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy", title="Training loss")
    accuracy_ax.plot(epochs, history.train_accuracy, marker="o", markersize=3, label="train (augmented batches)")
    if history.test_accuracy:
        accuracy_ax.plot(epochs, history.test_accuracy, marker="o", markersize=3, label="test")
        best = max(history.test_accuracy)
        accuracy_ax.axhline(best, color="0.6", linewidth=0.8, linestyle="--")
    accuracy_ax.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    for ax in (loss_ax, accuracy_ax):
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize="small")
        ax.xaxis.get_major_locator().set_params(integer=True)
    return loss_ax.figure


# --------------------------------------------------------------------------------------------------------
# Lesson 03's recipe for the digits
# --------------------------------------------------------------------------------------------------------

DIGITS_CNN = dict(
    in_channels=1,
    input_size=8,
    conv_channels=(32, 64),
    kernel_size=3,
    padding="same",
    pool=(2, None),
    hidden=(128,),
    num_classes=10,
)
"""The :class:`~cnn_lessons.models.SimpleCNN` for 8x8 digits: 1x8x8 -> 32x8x8 -> pool 32x4x4 -> 64x4x4 ->
1024 -> 128 -> 10 (151,306 parameters). Pooling only once keeps a 4x4 map for the head: 8x8 has few pixels
to lose."""

DIGITS_TRAINING = dict(
    epochs=25,
    lr=1e-2,
    batch_size=128,
    weight_decay=1e-4,
    label_smoothing=0.1,
    max_shift=1,
)
"""How :func:`train_digits_cnn` trains :data:`DIGITS_CNN`: AdamW with a one-cycle schedule peaking at ``lr``,
label smoothing, and every training image shifted by up to ``max_shift`` pixels each epoch."""


def digits_cnn(seed: int = 0) -> SimpleCNN:
    """A freshly initialised :data:`DIGITS_CNN` (torch's default initialisation, seeded with ``seed``)."""
    torch.manual_seed(seed)
    return SimpleCNN(**DIGITS_CNN)


def train_digits_cnn(
    seed: int = 0,
    progress: bool = True,
    device: torch.device | str | None = None,
    num_threads: int | None = 1,
) -> tuple[SimpleCNN, History]:
    """Build :data:`DIGITS_CNN` and train it on the fixed digits split with :data:`DIGITS_TRAINING`.

    Returns the trained model (in eval mode) and its :class:`History`, whose last ``test_accuracy`` is the
    accuracy on the 450 test digits of :func:`cnn_lessons.data.load_digits_split`: 0.993 or more for 45 of
    the seeds 0..47 (all of 0..9), 0.991 for the other three; a few seconds on one CPU core.
    ``num_threads``: as in :func:`fit` (1 by default).
    """
    split = load_digits_split()
    settings = dict(DIGITS_TRAINING)
    augment = functools.partial(random_shifts, max_shift=settings.pop("max_shift"))
    model = digits_cnn(seed)
    history = fit(
        model,
        split.train,
        split.test,
        augment=augment,
        device=device,
        seed=seed,
        progress=progress,
        num_threads=num_threads,
        desc="digits CNN",
        **settings,
    )
    return model.eval(), history


# --------------------------------------------------------------------------------------------------------
# Lesson 06's ablation: the same small CNN with and without batch norm, augmentation and dropout
# --------------------------------------------------------------------------------------------------------

ABLATION_CONFIGS = {
    "plain": dict(batch_norm=False, augment=False, dropout=0.0),
    "batch norm": dict(batch_norm=True, augment=False, dropout=0.0),
    "augmentation": dict(batch_norm=False, augment=True, dropout=0.0),
    "dropout": dict(batch_norm=False, augment=False, dropout=0.3),
    "all": dict(batch_norm=True, augment=True, dropout=0.3),
}
"""The ablation's configurations of :func:`ablation_cnn` and its training (``augment``: random shifts by up to a
pixel and rotations by up to 10 degrees, :func:`cnn_lessons.data.shifts_and_rotations`)."""

ABLATION_TRAINING = dict(epochs=8, lr=2e-2, batch_size=128, weight_decay=1e-4)
"""How every ablation run trains: AdamW, one-cycle schedule, a few epochs on the 1347 training digits."""

ONE_PIXEL_SHIFTS = ((1, 0), (-1, 0), (0, 1), (0, -1))
"""The test digits' one-pixel moves (right, left, down, up) that the shifted accuracy averages over."""


def ablation_cnn(batch_norm: bool = False, dropout: float = 0.0, seed: int = 0) -> nn.Sequential:
    """The ablation's small CNN for 1x8x8 digits, seeded: two 3x3 conv blocks (16 and 32 channels, each
    optionally followed by ``BatchNorm2d``; a 2x2 max-pool after the first), flatten, optional ``Dropout``,
    ``Linear(512, 10)``. With batch norm the convolutions have no bias (the norm's shift replaces it)."""
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
    torch.manual_seed(seed)

    def block(c_in: int, c_out: int) -> list[nn.Module]:
        norm = [nn.BatchNorm2d(c_out)] if batch_norm else []
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=not batch_norm), *norm, nn.ReLU()]

    head = [nn.Dropout(dropout)] if dropout else []
    return nn.Sequential(*block(1, 16), nn.MaxPool2d(2), *block(16, 32), nn.Flatten(), *head, nn.Linear(32 * 4 * 4, 10))


def shifted_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, shifts=ONE_PIXEL_SHIFTS) -> float:
    """Mean accuracy of ``model`` over copies of ``images`` moved by each (dx, dy) of ``shifts``."""
    return sum(evaluate(model, shift_images(images, dx, dy), labels) for dx, dy in shifts) / len(shifts)


@dataclass(frozen=True)
class AblationRun:
    """One ablation run: its configuration and seed, the accuracies on the clean and on the shifted test digits,
    its training time, the trained model (in eval mode) and its :class:`History`."""

    config: str
    seed: int
    clean_accuracy: float
    shifted_accuracy: float
    seconds: float
    model: nn.Module = field(compare=False, repr=False)
    history: History = field(compare=False, repr=False)


def run_ablation(config: str, seed: int = 0, device: torch.device | str | None = None, **overrides) -> AblationRun:
    """Train :func:`ablation_cnn` in configuration ``config`` (:data:`ABLATION_CONFIGS`) with ``seed`` on the
    digits split (:data:`ABLATION_TRAINING`, changed by ``overrides``) and measure it on the test digits."""
    if config not in ABLATION_CONFIGS:
        raise ValueError(f"config must be one of {list(ABLATION_CONFIGS)}, got {config!r}")
    settings = ABLATION_CONFIGS[config]
    split = load_digits_split()
    model = ablation_cnn(settings["batch_norm"], settings["dropout"], seed)
    augment = shifts_and_rotations if settings["augment"] else None
    start = time.perf_counter()
    history = fit(
        model,
        split.train,
        augment=augment,
        device=device,
        seed=seed,
        progress=False,
        **{**ABLATION_TRAINING, **overrides},
    )
    seconds = time.perf_counter() - start
    model.eval()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in fit: a small network's layers gain nothing from more threads, and can lose a lot
    try:
        clean, shifted = evaluate(model, *split.test), shifted_accuracy(model, *split.test)
    finally:
        torch.set_num_threads(threads)
    return AblationRun(
        config=config,
        seed=seed,
        clean_accuracy=clean,
        shifted_accuracy=shifted,
        seconds=seconds,
        model=model,
        history=history,
    )
