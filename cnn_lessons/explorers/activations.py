"""The activation explorer (lesson 06): one batch through a deep plain convolution stack; how the activations
and the gradients grow or vanish layer by layer, with the depth, the initialisation, batch norm and the
nonlinearity as controls.

Picture: :func:`activation_picture` (convolutions by ``F.conv2d``, batch norm by :func:`cnn_lessons.ops.batch_norm2d`);
view: :class:`ActivationView`; controls: :class:`ActivationExplorer`.

The stack: :data:`STACK_DEPTH` layers of a 3x3 convolution from :data:`STACK_CHANNELS` to as many channels
(no bias), optionally batch norm (training mode, no scale or shift), then the nonlinearity; the input is a
batch of :data:`STACK_BATCH` maps of 8x8 standard normal values. The convolutions pad circularly, so that every
output position sees fan_in = 16 * 3 * 3 = 144 inputs: with zero padding, the border positions of an 8x8 map
would see fewer, and each layer would lose about 16% of the variance for that reason alone. The gradient is
that of ``(top * g).sum()`` for a standard normal ``g`` at the top layer (``depth``): each layer's ``.grad``.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import ipywidgets as widgets
import matplotlib
import matplotlib.figure
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from cnn_lessons import ops
from cnn_lessons.drawing.images import framed, still_image
from cnn_lessons.drawing.style import COLORS
from cnn_lessons.drawing.text import TextBatch
from cnn_lessons.explorers._base import Explorer, slider

__all__ = [
    "STACK_DEPTH",
    "STACK_CHANNELS",
    "STACK_BATCH",
    "INITIALISATIONS",
    "NONLINEARITIES",
    "HISTOGRAM_EDGES",
    "stack_weights",
    "stack_batch",
    "ActivationPicture",
    "activation_picture",
    "activation_summary",
    "ActivationView",
    "ActivationExplorer",
]

STACK_DEPTH = 20
"""Layers of the stack (the depth slider goes from 1 to this)."""

STACK_CHANNELS = 16
"""Channels of every layer of the stack; fan_in = 16 * 3 * 3 = 144."""

STACK_BATCH = 16
"""Maps of 8x8 in the batch (16 * 64 = 1024 values per channel, per layer)."""

FAN_IN = STACK_CHANNELS * 3 * 3

INITIALISATIONS = {
    "too small (std 0.01)": ("normal", lambda fan_in: 1e-4, "0.01\u00b2"),
    "torch default": ("uniform", lambda fan_in: 1 / (3 * fan_in), "1/(3 fan_in)"),
    "Glorot (1/fan_in)": ("normal", lambda fan_in: 1 / fan_in, "1/fan_in"),
    "He (2/fan_in)": ("normal", lambda fan_in: 2 / fan_in, "2/fan_in"),
    "too large (8/fan_in)": ("normal", lambda fan_in: 8 / fan_in, "8/fan_in"),
}
"""Name -> (distribution, the weights' variance as a function of fan_in, that variance as written). ``torch
default`` is ``nn.init.kaiming_uniform_(w, a=math.sqrt(5))``, what ``nn.Conv2d`` does: U(-b, b) with
b = 1/sqrt(fan_in), variance b^2/3. Glorot and Bengio (AISTATS 2010) keep the variance of a linear layer's
output for fan_in = fan_out; He et al. (arXiv 1502.01852, 2015) double it because a ReLU zeroes half."""

NONLINEARITIES = {"ReLU": torch.relu, "tanh": torch.tanh, "GELU": F.gelu}
"""The nonlinearity after each convolution (and batch norm)."""

HISTOGRAM_EDGES = tuple(float(v) for v in np.linspace(-3.0, 3.0, 31))
"""The histograms' bins: 30 of width 0.2 from -3 to 3; values beyond fall into the first or last bin."""


def _check(name: str, value, options) -> str:
    if value not in options:
        raise ValueError(f"{name} must be one of {list(options)}, got {value!r}")
    return value


def stack_weights(init: str) -> torch.Tensor:
    """The stack's weights for ``init``: (STACK_DEPTH, C, C, 3, 3), seeded, the same on every call (a copy)."""
    return _weights(_check("init", init, INITIALISATIONS)).clone()


@functools.lru_cache(maxsize=len(INITIALISATIONS))
def _weights(init: str) -> torch.Tensor:
    kind, variance, _ = INITIALISATIONS[init]
    generator = torch.Generator().manual_seed(6)
    weights = torch.empty(STACK_DEPTH, STACK_CHANNELS, STACK_CHANNELS, 3, 3)
    if kind == "uniform":
        for layer in weights:
            torch.nn.init.kaiming_uniform_(layer, a=math.sqrt(5), generator=generator)
    else:
        weights.normal_(0.0, math.sqrt(variance(FAN_IN)), generator=generator)
    return weights


def stack_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """The input batch (N, C, 8, 8) and the upstream gradients (STACK_DEPTH, N, C, 8, 8), standard normal, seeded."""
    x, upstream = _batch()
    return x.clone(), upstream.clone()


@functools.lru_cache(maxsize=1)
def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(60)
    x = torch.randn(STACK_BATCH, STACK_CHANNELS, 8, 8, generator=generator)
    upstream = torch.randn(STACK_DEPTH, STACK_BATCH, STACK_CHANNELS, 8, 8, generator=generator)
    return x, upstream


@dataclasses.dataclass(frozen=True, kw_only=True)
class ActivationPicture:
    """What the activation explorer shows (see :func:`activation_picture`); per-layer tuples, layer 1 first."""

    depth: int
    init: str
    batch_norm: bool
    nonlinearity: str
    fan_in: int
    weight_variance: float
    variance_formula: str
    measured_variance: float
    activation_std: tuple[float, ...]
    gradient_std: tuple[float, ...]
    histograms: tuple[tuple[float, ...], ...]


@functools.lru_cache(maxsize=2 * len(INITIALISATIONS) * len(NONLINEARITIES))
def _forward(init: str, batch_norm: bool, nonlinearity: str):
    """The full stack's layer outputs (kept with their autograd graph), the input and its stds and histograms."""
    weights, (x, _) = _weights(init), _batch()
    act = NONLINEARITIES[nonlinearity]
    outputs, h = [], x
    edges = torch.tensor(HISTOGRAM_EDGES)
    with torch.enable_grad():
        h = h.clone().requires_grad_(True)
        for weight in weights:
            z = F.conv2d(F.pad(h, (1, 1, 1, 1), mode="circular"), weight)
            if batch_norm:
                z = ops.batch_norm2d(z)
            h = act(z)
            outputs.append(h)
    stds = tuple(float(o.detach().std()) for o in outputs)
    histograms = []
    for o in outputs:
        values = o.detach().flatten().clamp(edges[0], edges[-1])
        counts = torch.histogram(values, bins=edges).hist
        histograms.append(tuple(float(c) for c in counts / values.numel()))
    return outputs, stds, tuple(histograms)


@functools.lru_cache(maxsize=512)
def _gradients(init: str, batch_norm: bool, nonlinearity: str, depth: int) -> tuple[float, ...]:
    outputs, _, _ = _forward(init, batch_norm, nonlinearity)
    upstream = _batch()[1][depth - 1]
    if depth == 1:  # the top layer's gradient is the upstream one itself
        return (float(upstream.std()),)
    with torch.enable_grad():
        grads = torch.autograd.grad(outputs[depth - 1], outputs[: depth - 1], upstream, retain_graph=True)
    return (*(float(g.std()) for g in grads), float(upstream.std()))


def activation_picture(depth: int, init: str, batch_norm: bool, nonlinearity: str) -> ActivationPicture:
    """The stack's first ``depth`` layers: each layer's output std and histogram, and the std of its gradient.

    The forward pass of all :data:`STACK_DEPTH` layers is computed once per (init, batch norm, nonlinearity)
    and kept; a depth's gradients once per depth (one backward pass through ``depth`` layers).
    """
    depth = int(depth)
    if not 1 <= depth <= STACK_DEPTH:
        raise ValueError(f"depth must be between 1 and {STACK_DEPTH}, got {depth}")
    _check("init", init, INITIALISATIONS)
    _check("nonlinearity", nonlinearity, NONLINEARITIES)
    batch_norm = bool(batch_norm)
    _, stds, histograms = _forward(init, batch_norm, nonlinearity)
    _, variance, formula = INITIALISATIONS[init]
    return ActivationPicture(
        depth=depth,
        init=init,
        batch_norm=batch_norm,
        nonlinearity=nonlinearity,
        fan_in=FAN_IN,
        weight_variance=variance(FAN_IN),
        variance_formula=formula,
        measured_variance=_measured_variance(init),
        activation_std=stds[:depth],
        gradient_std=_gradients(init, batch_norm, nonlinearity, depth),
        histograms=histograms[:depth],
    )


@functools.lru_cache(maxsize=len(INITIALISATIONS))
def _measured_variance(init: str) -> float:
    return float(_weights(init).var())


def _scientific(value: float) -> str:
    """0.59, 37.5 or 3.0e-9: three digits between 0.01 and 1000, powers of ten beyond."""
    if value == 0 or 0.01 <= abs(value) < 1000:
        return f"{value:.3g}"
    return f"{value:.1e}".replace("e-0", "e-").replace("e+0", "e")


def activation_summary(picture: ActivationPicture) -> str:
    """The line above the chart (HTML): the weights' variance, and how the scale changed from layer 1 to the top."""
    first, last = picture.activation_std[0], picture.activation_std[-1]
    grad_first, grad_last = picture.gradient_std[0], picture.gradient_std[-1]
    norm = "batch norm, " if picture.batch_norm else ""
    text = (
        f"<b>{picture.init}</b>: Var(w) = {picture.variance_formula} = {picture.weight_variance:.2e} "
        f"(fan_in = {picture.fan_in}; measured {picture.measured_variance:.2e}). "
        f"Conv, {norm}{picture.nonlinearity}, \u00d7{picture.depth}: activation std {_scientific(first)} after "
        f"layer 1, {_scientific(last)} after layer {picture.depth}"
    )
    if picture.depth > 1:
        factor = (last / first) ** (1 / (picture.depth - 1)) if first > 0 and last > 0 else 0.0
        text += f" (\u00d7{factor:.2f} per layer); gradient std {_scientific(grad_first)} at layer 1"
        text += f", {_scientific(grad_last)} at the top"
    return text + "."


LOG_RANGE = (-24, 8)
"""The chart's range of std, as powers of ten."""

MAX_ROWS = STACK_DEPTH


class ActivationView:
    """Left: each layer's histogram as one row of an image; right: log10 of the activation and gradient std per
    layer. Every artist is made once; :meth:`update` sets the image data, the lines' data and the texts."""

    def __init__(self, fig: Figure, *, fontsize: float = 9):
        # long: makes every artist of both panels once (image, lines, hand-placed tick labels, legend, titles)
        self.fig = fig
        self.ax_hist = fig.add_axes((0.07, 0.14, 0.35, 0.74))
        self.ax_std = fig.add_axes((0.5, 0.14, 0.47, 0.74))
        low, high = HISTOGRAM_EDGES[0], HISTOGRAM_EDGES[-1]
        blank = np.full((MAX_ROWS, len(HISTOGRAM_EDGES) - 1), np.nan)
        self.image = still_image(self.ax_hist, blank, "Blues", (0.0, 1.0), extent=(low, high, 0.5, MAX_ROWS + 0.5))
        self.ax_hist.set_xlim(low, high)
        self.ax_hist.set_ylim(MAX_ROWS + 0.5, 0.5)
        self.ax_hist.set_aspect("auto")
        framed(self.ax_hist)
        words = TextBatch(self.ax_hist)
        for value in (-3, -1.5, 0, 1.5, 3):
            words.text(
                value, MAX_ROWS + 0.9, f"{value:g}".replace("-", "\u2212"), ha="center", va="top", fontsize=fontsize - 1
            )
        for layer in (1, 5, 10, 15, 20):
            words.text(low - 0.1, layer, str(layer), ha="right", va="center", fontsize=fontsize - 1)
        words.text(
            0,
            MAX_ROWS + 2.3,
            "activation value (beyond \u00b13: counted at the edge)",
            ha="center",
            va="top",
            fontsize=fontsize - 1,
        )
        words.text(low - 0.75, MAX_ROWS / 2, "layer", ha="center", va="center", rotation=90, fontsize=fontsize - 1)
        self.hist_title = words.text(0, -0.2, "", ha="center", va="bottom", fontsize=fontsize)

        bottom, top = LOG_RANGE
        framed(self.ax_std)
        self.ax_std.set_xlim(0.5, STACK_DEPTH + 0.5)
        self.ax_std.set_ylim(bottom, top)
        powers = list(range(bottom + 4, top, 4))  # one collection for the grid: one draw call, not seven
        colors = ["#bbbbbb" if power == 0 else "#e6e6e6" for power in powers]
        self.ax_std.hlines(powers, 0.5, STACK_DEPTH + 0.5, colors=colors, linewidth=0.7, zorder=0)
        (self.activation_line,) = self.ax_std.plot([], [], marker="o", markersize=3, color="#1f6fb4", linewidth=1.5)
        (self.gradient_line,) = self.ax_std.plot(
            [], [], marker="s", markersize=3, color=COLORS["highlight"], linewidth=1.5
        )
        labels = TextBatch(self.ax_std)
        for power in range(bottom, top + 1, 4):
            labels.text(
                0.3,
                power,
                "1" if power == 0 else f"1e{power}".replace("-", "\u2212"),
                ha="right",
                va="center",
                fontsize=fontsize - 1,
            )
        for layer in (1, 5, 10, 15, 20):
            labels.text(layer, bottom - 0.8, str(layer), ha="center", va="top", fontsize=fontsize - 1)
        labels.text(STACK_DEPTH / 2, bottom - 3.2, "layer", ha="center", va="top", fontsize=fontsize - 1)
        labels.text(1, top - 1.5, "activation std", color="#1f6fb4", fontsize=fontsize)
        labels.text(1, top - 4.0, "gradient std", color=COLORS["highlight"], fontsize=fontsize)
        self.std_title = labels.text(STACK_DEPTH / 2 + 0.5, top + 0.6, "", ha="center", va="bottom", fontsize=fontsize)
        self.clipped = labels.text(
            STACK_DEPTH, bottom + 0.6, "", ha="right", va="bottom", fontsize=fontsize - 1, color="#b30000"
        )

    def update(self, picture: ActivationPicture) -> None:
        """Show ``picture``: rows 1..depth of the histogram image, both std curves, the titles."""
        rows = np.full((MAX_ROWS, len(HISTOGRAM_EDGES) - 1), np.nan)
        rows[: picture.depth] = np.sqrt(np.asarray(picture.histograms))  # sqrt: small shares stay visible
        self.image.set_data(rows)
        layers = np.arange(1, picture.depth + 1)
        bottom, top = LOG_RANGE
        clipped = False
        for line, values in (
            (self.activation_line, picture.activation_std),
            (self.gradient_line, picture.gradient_std),
        ):
            logs = np.log10(np.maximum(np.asarray(values, dtype=float), 1e-300))
            clipped |= bool((logs < bottom).any() or (logs > top).any())
            line.set_data(layers, np.clip(logs, bottom, top))
        self.clipped.set_text("some values are beyond the chart (drawn at its edge)" if clipped else "")
        norm = " + batch norm" if picture.batch_norm else ""
        self.hist_title.set_text(f"values per layer (\u221ashare), {picture.init}")
        self.std_title.set_text(
            f"std per layer (log scale): conv{norm} + {picture.nonlinearity}, depth {picture.depth}"
        )


class ActivationExplorer(Explorer):
    """A batch through a deep convolution stack: depth, initialisation, batch norm and nonlinearity as controls.

    Controls: ``depth`` (IntSlider 1..:data:`STACK_DEPTH`), ``init`` (Dropdown over :data:`INITIALISATIONS`),
    ``batch_norm`` (Checkbox), ``nonlinearity`` (Dropdown over :data:`NONLINEARITIES`); ``header`` (HTML) reads
    out the weights' variance and the scale at the first and the top layer. The numbers come from
    :func:`activation_picture`: each combination's forward pass is computed once, so the depth slider only
    needs one backward pass per new depth.
    """

    def __init__(
        self,
        depth: int = STACK_DEPTH,
        init: str = "torch default",
        batch_norm: bool = False,
        nonlinearity: str = "ReLU",
    ):
        activation_picture(depth, init, batch_norm, nonlinearity)  # checks the arguments, with their messages
        self.depth = slider("depth", depth, 1, STACK_DEPTH)
        self.init = widgets.Dropdown(options=list(INITIALISATIONS), value=init, description="init")
        self.batch_norm = widgets.Checkbox(
            value=bool(batch_norm), description="batch norm", indent=False, layout=widgets.Layout(width="110px")
        )
        self.nonlinearity = widgets.Dropdown(
            options=list(NONLINEARITIES),
            value=nonlinearity,
            description="nonlinearity",
            layout=widgets.Layout(width="200px"),
        )
        self.header = widgets.HTML(layout=widgets.Layout(margin="0 0 0 10px"))
        fig = matplotlib.figure.Figure(figsize=(8, 3.0), dpi=100)
        self.view = ActivationView(fig)
        self._show(fig, widgets.HBox([self.depth, self.init, self.batch_norm, self.nonlinearity]), self.header)
        self.update()
        self._watch([self.depth, self.init, self.batch_norm, self.nonlinearity])

    def picture(self) -> ActivationPicture:
        """What the controls' values give (:func:`activation_picture`)."""
        return activation_picture(self.depth.value, self.init.value, self.batch_norm.value, self.nonlinearity.value)

    def update(self) -> None:
        """Recompute the picture and update the image, the lines and the read-out in place."""
        picture = self.picture()
        self.view.update(picture)
        self.header.value = activation_summary(picture)
        self._redraw()

    def static_figure(self) -> matplotlib.figure.Figure:
        fig = matplotlib.figure.Figure(figsize=(8, 3.0), dpi=100)
        ActivationView(fig).update(self.picture())
        return fig

    def benchmark_steps(self):
        depths = [(self.depth, d) for d in range(1, STACK_DEPTH + 1)]
        return [
            *depths,
            (self.batch_norm, True),
            (self.init, "He (2/fan_in)"),
            (self.batch_norm, False),
            (self.nonlinearity, "tanh"),
            (self.init, "torch default"),
            (self.nonlinearity, "ReLU"),
        ]

    def _widgets(self):
        yield from (
            self.depth,
            self.init,
            self.batch_norm,
            self.nonlinearity,
            self.header,
            self.canvas,
            self.canvas.toolbar,
        )

    def __repr__(self) -> str:
        return (
            f"ActivationExplorer(depth={self.depth.value}, init={self.init.value!r}, "
            f"batch_norm={self.batch_norm.value}, nonlinearity={self.nonlinearity.value!r})"
        )
