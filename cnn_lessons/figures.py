"""The lessons' static figures, drawn by :mod:`cnn_lessons.drawing` and saved as PNGs (``cnn-lessons figures``).

Every figure in ``assets/figures`` comes from a function here, never from a drawing program, and the PNG bytes
are reproducible: the same code and the same pinned packages (``requirements/constraints.txt``) give the same
bytes, which ``tests/test_figures.py`` checks by drawing them all again.

- :data:`FIGURES`: figure name -> a function that draws it and returns a ``matplotlib.figure.Figure`` (no
  ``pyplot``: nothing is registered with a global figure manager, so a notebook shows one with ``display``).
- :func:`render`: one figure as PNG bytes (Agg, :data:`DPI`, matplotlib's default style, no metadata that
  would change from one run to the next).
- :func:`save_figures`: every figure as ``NAME.png`` in a folder, overwriting nothing unless asked to.
- :func:`compare_figures`: which PNGs in a folder differ from a fresh drawing (``cnn-lessons figures --check``).

The lessons draw their figures with the same functions (lesson 01's correlation and convolution grids, lesson
02's padding, stride, dilation and receptive-field pictures through :func:`draw`, lesson 03's weight matrices
and network, lesson 04's block diagrams), so the notebooks and the assets cannot drift apart. Lesson 02's
figures are its explorers' pictures, held still.
"""

from __future__ import annotations

import dataclasses
import functools
import io
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import matplotlib.style
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import nn

from cnn_lessons import block_diagrams, drawing, explorers, models, ops, relationships

__all__ = [
    "DPI",
    "LESSON01_IMAGE",
    "LESSON01_KERNEL",
    "correlation_vs_convolution",
    "conv_arithmetic",
    "receptive_field",
    "FAMILY_RELATIONSHIP",
    "relationship_family",
    "dense_local_shared",
    "simple_cnn_spec",
    "simple_cnn",
    "block_diagram",
    "FIGURES",
    "draw",
    "render",
    "FiguresExist",
    "save_figures",
    "Comparison",
    "compare_figures",
]

DPI = 150
"""Pixels per inch of the PNGs: sharp enough for slides, small enough for the repository."""
_X = "\u00d7"  # the multiplication sign of sizes: 3×3
_PNG_METADATA = {"Software": None}  # matplotlib writes its version otherwise; PNGs get no timestamp

LESSON01_IMAGE = (
    (0.0, 0, 1, 2, 1),
    (0, 1, 3, 1, 0),
    (1, 2, 0, 0, 2),
    (0, 0, 1, 3, 1),
    (2, 1, 0, 1, 0),
)
"""Lesson 01's small image (section 2), the default of :func:`correlation_vs_convolution`."""
LESSON01_KERNEL = ((1.0, 0, 0), (0, 2, 0), (0, 0, -1))
"""Lesson 01's asymmetric kernel: a diagonal that the half turn of convolution changes."""


def _default_style(function: Callable[..., Figure]) -> Callable[..., Figure]:
    """Draw under matplotlib's default style, whatever the caller's rcParams (a notebook's, a matplotlibrc)."""

    @functools.wraps(function)
    def drawn(*args, **kwargs) -> Figure:
        with matplotlib.style.context("default"):
            return function(*args, **kwargs)

    return drawn


# --- lesson 01 -------------------------------------------------------------------------------------------------


@_default_style
def correlation_vs_convolution(image=None, kernel=None) -> Figure:
    """The image, the kernel, the kernel flipped, and both outputs (lesson 01, section 2) as annotated grids.

    The outputs come from :func:`cnn_lessons.ops.correlate2d` and :func:`~cnn_lessons.ops.convolve2d`;
    defaults: :data:`LESSON01_IMAGE` and :data:`LESSON01_KERNEL`.
    """
    image = ops.as_float_tensor(LESSON01_IMAGE if image is None else image, "image", 2).float()
    kernel = ops.as_float_tensor(LESSON01_KERNEL if kernel is None else kernel, "kernel", 2).float()
    panels = [
        (image, None, "image X"),
        (kernel, drawing.DIVERGING, "kernel W"),
        (kernel.flip(0, 1), drawing.DIVERGING, "W flipped"),
        (ops.correlate2d(image, kernel), None, "correlation X \u22c6 W"),
        (ops.convolve2d(image, kernel), None, "convolution X * W"),
    ]
    fig = Figure(figsize=(11, 2.5), layout="constrained")
    axes = fig.subplots(1, len(panels), gridspec_kw={"width_ratios": [p[0].shape[-1] for p in panels]})
    for ax, (values, cmap, title) in zip(axes, panels, strict=True):
        drawing.draw_grid(ax, values, cmap=cmap, title=title)
    return fig


# --- lesson 02 -------------------------------------------------------------------------------------------------


@_default_style
def conv_arithmetic(
    size: int, kernel_size: int, stride: int = 1, padding=0, dilation: int = 1, position: int = 0, dims: int = 2
) -> Figure:
    """The convolution-arithmetic explorer's picture (lesson 02) for one configuration, as a still figure.

    The numbers come from :func:`cnn_lessons.explorers.conv_picture` (sizes by :mod:`cnn_lessons.arithmetic`,
    padding by :mod:`cnn_lessons.ops`); ``position`` is the output cell whose taps are outlined (row-major).
    """
    fig = Figure()
    picture = explorers.conv_picture(dims, size, kernel_size, stride, padding, dilation, position=position)
    explorers.ConvArithmeticView(fig).update(picture)
    return fig


@_default_style
def receptive_field(layers, input_size: int, position: int = 0) -> Figure:
    """The receptive-field explorer's picture (lesson 02) for a stack of ``(kernel, stride, dilation)`` layers."""
    picture = explorers.receptive_field_picture(layers, input_size, position)  # checks the arguments first
    fig = Figure()
    explorers.ReceptiveFieldView(fig, max_layers=max(len(picture.layers), 1)).update(picture)
    return fig


FAMILY_RELATIONSHIP = {"no padding": 1, "padding": 2, "stride": 6, "pooling": 7, "transposed": 14, "dilation": 15}
"""For each family of the guide's relationships, the one whose worked example :func:`relationship_family` draws."""

_TRANSPOSED_KERNEL = ((1.0, 0, 0), (0, 1, 0), (0, 0, 2))  # asymmetric, so that the flip shows


def _relationship_heading(fig: Figure, rel: relationships.Relationship) -> None:
    fig.suptitle(f"relationship {rel.number}: ${rel.latex}$\n{rel.worked()}", fontsize=11)


def _pooling_figure(rel: relationships.Relationship) -> Figure:
    """The input with its windows tinted and each window's maximum outlined, and the pooled output."""
    i, k, s = rel.example["i"], rel.example["k"], rel.example["s"]
    image = torch.randint(0, 10, (i, i), generator=torch.Generator().manual_seed(2)).float()
    pooled = nn.functional.max_pool2d(image[None, None], k, s)[0, 0]
    o = pooled.shape[-1]
    fig = Figure(figsize=(7.4, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [i, o]})
    grid = drawing.draw_grid(left, image, digits=0, title=f"input {i}{_X}{i}, windows {k}{_X}{k}, stride {s}")
    out = drawing.draw_grid(right, pooled, digits=0, title=f"max pooling: output {o}{_X}{o}")
    tints = [drawing.COLORS[name] for name in ("kernel", "product", "done", "current")]
    colors = [[drawing.COLORS["input"]] * i for _ in range(i)]  # cells no window reads stay white
    for r in range(o):
        for c in range(o):
            tint = tints[(r + 2 * c) % len(tints)]  # neighbouring windows differ
            for a in range(k):
                for b in range(k):
                    colors[r * s + a][c * s + b] = tint
            out.patches[r][c].set_facecolor(tint)
            top, side = divmod(int(image[r * s : r * s + k, c * s : c * s + k].argmax()), k)
            drawing.outline(left, linewidth=2.2).set_xy((c * s + side, r * s + top))
    grid.set_facecolors(colors)
    _relationship_heading(fig, rel)
    return fig


def _transposed_figure(rel: relationships.Relationship) -> Figure:
    """The input, the stretched and padded input, the flipped kernel, and the output of F.conv_transpose2d."""
    i_, k, s, p, a = (rel.example[name] for name in ("i_", "k", "s", "p", "a"))
    y = torch.arange(1.0, i_ * i_ + 1).view(1, 1, i_, i_)
    weight = torch.tensor(_TRANSPOSED_KERNEL).view(1, 1, k, k)
    q = k - 1 - p
    stretched = ops.stretch(y, s)[0, 0]
    padded = nn.functional.pad(stretched, (q, q + a, q, q + a))
    out = nn.functional.conv_transpose2d(y, weight, stride=s, padding=p, output_padding=a)[0, 0]
    assert torch.equal(ops.conv_transpose2d_as_direct(y, weight, s, p, a)[0, 0], out)  # what the figure claims
    zeros = f"{s - 1} zero{'s' * (s > 2)}"
    panels = [
        (y[0, 0], f"input {i_}{_X}{i_}"),
        (padded, f"stretched: {zeros} between values,\npadded: k\u22121\u2212p = {q} (+ a = {a} bottom, right)"),
        (weight[0, 0].flip(0, 1), "kernel flipped"),
        (out, f"output {out.shape[-1]}{_X}{out.shape[-1]}\n= F.conv_transpose2d"),
    ]
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    axes = fig.subplots(1, len(panels), gridspec_kw={"width_ratios": [v.shape[-1] for v, _ in panels]})
    grids = [drawing.draw_grid(ax, v, digits=0, title=t) for ax, (v, t) in zip(axes, panels, strict=True)]
    n = padded.shape[-1]
    colors = [[drawing.COLORS["pad"]] * n for _ in range(n)]
    for r in range(stretched.shape[0]):
        for c in range(stretched.shape[1]):
            kept = r % s == 0 and c % s == 0
            colors[q + r][q + c] = drawing.COLORS["input"] if kept else drawing.COLORS["product"]
    grids[1].set_facecolors(colors)
    grids[2].set_facecolors(drawing.COLORS["kernel"])
    drawing.outline(axes[1]).set_bounds(0, 0, k, k)  # the window of output (0, 0)
    grids[3].patches[0][0].set_facecolor(drawing.COLORS["current"])
    _relationship_heading(fig, rel)
    return fig


@_default_style
def relationship_family(family: str) -> Figure:
    """The worked example of one family of the guide's relationships (lesson 02, section 6), drawn.

    ``family``: one of :data:`FAMILY_RELATIONSHIP`. A convolution family is the convolution-arithmetic
    explorer's picture of its relationship's example (:func:`conv_arithmetic`); pooling shows the windows and
    their maxima; transposed shows the guide's direct convolution: the input stretched and padded, the flipped
    kernel, and the output, which ``F.conv_transpose2d`` gives too.
    """
    if family not in FAMILY_RELATIONSHIP:
        raise ValueError(f"no family {family!r}; the guide's families are {', '.join(map(repr, FAMILY_RELATIONSHIP))}")
    rel = relationships.relationship(FAMILY_RELATIONSHIP[family])
    if family == "pooling":
        return _pooling_figure(rel)
    if family == "transposed":
        return _transposed_figure(rel)
    e = rel.example
    return conv_arithmetic(e["i"], e["k"], stride=e.get("s", 1), padding=e.get("p", 0), dilation=e.get("d", 1))


# --- lesson 03 -------------------------------------------------------------------------------------------------


def _weight_matrices(dense, local, shared) -> list[torch.Tensor]:
    """The three matrices as float tensors, or a ValueError saying which one is not what the figure needs."""
    named = {"dense": dense, "local": local, "shared": shared}
    matrices = {name: torch.as_tensor(m, dtype=torch.float32).detach().cpu() for name, m in named.items()}
    for name, matrix in matrices.items():
        if matrix.ndim != 2 or not matrix.numel():
            raise ValueError(
                f"each matrix needs one row per output and one column per input (2-D); {name} has shape "
                f"{tuple(matrix.shape)}"
            )
    shapes = {name: tuple(matrix.shape) for name, matrix in matrices.items()}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise ValueError(f"the three matrices map the same input to the same output, so share one shape; got {listed}")
    return list(matrices.values())


@_default_style
def dense_local_shared(dense, local, shared) -> Figure:
    """Three weight matrices of a layer on one image, side by side (lesson 03, section 0), each titled with its count.

    dense: every entry is a weight of its own; local (banded): the non-zeros are; shared (tied): the distinct
    non-zero values are. One colour scale for the three, white at 0 (:data:`cnn_lessons.drawing.DIVERGING`).
    """
    matrices = _weight_matrices(dense, local, shared)
    nonzero = [int(m.count_nonzero()) for m in matrices[1:]]
    distinct = int(matrices[2][matrices[2] != 0].unique().numel())
    zeros = matrices[1].numel() - nonzero[0]
    titles = [
        f"dense: {matrices[0].numel():,} free weights\n(every entry its own)",
        f"local (banded): {nonzero[0]:,} free weights\n(the non-zeros; {zeros:,} entries fixed at 0)",
        f"shared (tied): {distinct:,} free weights\n({nonzero[1]:,} non-zeros, {distinct:,} distinct values)",
    ]
    top = max(float(m.abs().max()) for m in matrices) or 1.0
    rows, cols = matrices[0].shape
    fig = Figure(figsize=(11, 11 / 3.3 * rows / cols + 0.9), layout="constrained")
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1, 1, 1, 0.05]})
    for ax, matrix, title in zip(axes, matrices, titles, strict=False):
        image = drawing.still_image(ax, matrix.numpy(), drawing.DIVERGING, (-top, top))
        ax.set(xticks=[], yticks=[], xlabel="input pixel (row by row)")
        ax.set_title(title, fontsize=10)
    axes[0].set_ylabel("output pixel (row by row)")
    fig.colorbar(image, cax=axes[3], label="weight")
    return fig


def _shape_text(shape: tuple[int, ...]) -> str:
    return _X.join(str(n) for n in shape)


def _padding_text(padding) -> str:
    if isinstance(padding, str):
        return repr(padding)
    return str(padding[0]) if padding[0] == padding[1] else f"({padding[0]}, {padding[1]})"


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def simple_cnn_spec(model: models.SimpleCNN) -> drawing.DiagramSpec:
    """A block diagram of a :class:`cnn_lessons.models.SimpleCNN`, one box per layer, top to bottom.

    Each box is keyed by the layer's name in ``model.named_modules()`` (``"block1.conv"``), describes the layer
    from the module itself (kernel, padding, channels, window, features) and notes the layer's output shape from
    ``model.shape_trace()``; an activation is folded into the box of the layer before it. Nothing is written by
    hand: another configuration gives its own diagram.
    """
    if not isinstance(model, models.SimpleCNN):
        raise TypeError(
            f"the diagram reads a models.SimpleCNN (its layers and shape_trace()), got {type(model).__name__}; "
            "build one with models.SimpleCNN(...)"
        )
    trace = model.shape_trace()
    modules = dict(model.named_modules())
    n, e = drawing.DiagramNode, drawing.DiagramEdge
    nodes = [n("input", "io", f"input: {_shape_text(trace[0][1])}")]
    for name, shape in trace[1:]:
        module = modules[name]
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            text, kind = f"{kh}{_X}{kw} conv, {module.out_channels} ch", "conv"
            note = f"padding {_padding_text(module.padding)}"
        elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
            window = _pair(module.kernel_size)
            word = "max" if isinstance(module, nn.MaxPool2d) else "avg"
            text, kind, note = f"{window[0]}{_X}{window[1]} {word} pool", "pool", f"stride {_pair(module.stride)[0]}"
        elif isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            word = "avg" if isinstance(module, nn.AdaptiveAvgPool2d) else "max"
            text, kind, note = f"global {word} pool", "pool", "one number per channel"
        elif isinstance(module, nn.Flatten):
            text, kind, note = "flatten", "norm", "one vector per image"
        elif isinstance(module, nn.Linear):
            text, kind = f"linear, {module.out_features}", "linear"
            note = "logits, one per class" if name == trace[-1][0] else f"from {module.in_features} features"
        else:  # an activation: folded into the box of the layer before it
            nodes[-1] = dataclasses.replace(nodes[-1], text=f"{nodes[-1].text} + {type(module).__name__}")
            continue
        nodes.append(n(name, kind, text, f"{note} \u2192 {_shape_text(shape)}", row=len(nodes)))
    nodes.append(n("logits", "io", f"logits: {_shape_text(trace[-1][1])}", row=len(nodes)))
    edges = [e(a.key, b.key) for a, b in zip(nodes[:-1], nodes[1:], strict=True)]
    total = sum(p.numel() for p in model.parameters())
    return drawing.DiagramSpec(f"SimpleCNN, {total:,} parameters", tuple(nodes), tuple(edges), box_width=2.4)


@_default_style
def simple_cnn(model: models.SimpleCNN | None = None) -> Figure:
    """Lesson 03's network as a block diagram: ``model`` (default: the reference ``models.SimpleCNN()``)."""
    return block_diagram(simple_cnn_spec(models.SimpleCNN() if model is None else model))


# --- lesson 04 -------------------------------------------------------------------------------------------------


@_default_style
def block_diagram(spec: drawing.DiagramSpec) -> Figure:
    """``spec`` drawn at its natural size (:func:`cnn_lessons.drawing.diagram_size`), filling the figure."""
    if not isinstance(spec, drawing.DiagramSpec):
        raise TypeError(
            f"block_diagram draws a drawing.DiagramSpec, got {type(spec).__name__}; lesson 04's blocks come from "
            "block_diagrams.BLOCK_DIAGRAMS[name]() and a SimpleCNN's from figures.simple_cnn_spec(model)"
        )
    fig = Figure(figsize=drawing.diagram_size(spec))
    ax = fig.add_axes((0, 0, 1, 1))
    drawing.draw_block_diagram(ax, spec)
    return fig


def _lesson_block(key: str) -> Figure:
    """Lesson 04's example of block ``key`` of :data:`cnn_lessons.block_diagrams.BLOCK_DIAGRAMS` (its defaults)."""
    return block_diagram(block_diagrams.BLOCK_DIAGRAMS[key]())


# --- the registry ----------------------------------------------------------------------------------------------

FIGURES: dict[str, Callable[[], Figure]] = {
    "01-correlation-vs-convolution": correlation_vs_convolution,
    "02-padding-valid": functools.partial(conv_arithmetic, 5, 3, padding="valid"),
    "02-padding-same": functools.partial(conv_arithmetic, 5, 3, padding="same"),
    "02-padding-full": functools.partial(conv_arithmetic, 5, 3, padding="full"),
    "02-stride": functools.partial(conv_arithmetic, 5, 3, stride=2, padding=1, position=1),
    "02-dilation": functools.partial(conv_arithmetic, 7, 3, dilation=2),
    "02-receptive-field-dilated": functools.partial(receptive_field, [(3, 1, 1), (3, 1, 2), (3, 1, 4)], 17, 1),
    "03-simple-cnn": simple_cnn,
    **{
        f"04-block-{key.replace('_', '-')}": functools.partial(_lesson_block, key)
        for key in block_diagrams.BLOCK_DIAGRAMS
    },
}
"""Every figure of ``assets/figures``: its name (the file is ``NAME.png``) and the function that draws it."""


def draw(name: str) -> Figure:
    """The figure called ``name`` (a key of :data:`FIGURES`)."""
    if name not in FIGURES:
        raise KeyError(f"no figure called {name!r}; the figures are {', '.join(FIGURES)}")
    return FIGURES[name]()


def render(name: str) -> bytes:
    """Figure ``name`` as PNG bytes: Agg at :data:`DPI`, default style, the same bytes every time."""
    fig = draw(name)
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    with matplotlib.style.context("default"):
        fig.savefig(buffer, format="png", dpi=DPI, metadata=_PNG_METADATA)
    return buffer.getvalue()


class FiguresExist(FileExistsError):
    """:func:`save_figures` would overwrite ``paths`` and was not told to."""

    def __init__(self, paths: list[Path]):
        self.paths = paths
        super().__init__(f"would overwrite {', '.join(str(p) for p in paths)}")


def save_figures(out_dir, force: bool = False) -> list[Path]:
    """Draw every figure of :data:`FIGURES` and write it as ``out_dir/NAME.png``; returns the paths written.

    ``out_dir`` is created if needed. Without ``force``, nothing is written when any of those files already
    exists (:class:`FiguresExist` lists them). All figures are drawn before the first file is written, so a
    figure that fails to draw leaves the files as they were. Other files in ``out_dir`` are left alone.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError("it is a file, not a folder")
    paths = {name: out / f"{name}.png" for name in FIGURES}
    clashes = [path for path in paths.values() if path.exists()]
    if clashes and not force:
        raise FiguresExist(clashes)
    out.mkdir(parents=True, exist_ok=True)  # an unwritable place fails here, before the drawing
    pngs = {name: render(name) for name in FIGURES}
    for name, path in paths.items():
        path.write_bytes(pngs[name])
    return list(paths.values())


class Comparison(NamedTuple):
    """What :func:`compare_figures` found: figure files that differ, are missing, or are not figures."""

    same: list[str]
    differ: list[str]
    missing: list[str]
    extra: list[str]

    @property
    def ok(self) -> bool:
        return not (self.differ or self.missing or self.extra)


def compare_figures(out_dir) -> Comparison:
    """Draw every figure again and compare it byte for byte with ``out_dir/NAME.png`` (file names in the lists).

    ``extra``: PNGs in ``out_dir`` that no figure writes (a renamed or removed figure's leftovers).
    """
    out = Path(out_dir)
    if not out.is_dir():
        raise NotADirectoryError(f"no folder {out}")
    same, differ, missing = [], [], []
    for name in FIGURES:
        path = out / f"{name}.png"
        if not path.is_file():
            missing.append(path.name)
        elif path.read_bytes() == render(name):
            same.append(path.name)
        else:
            differ.append(path.name)
    expected = {f"{name}.png" for name in FIGURES}
    extra = sorted(p.name for p in out.glob("*.png") if p.name not in expected)
    return Comparison(same, differ, missing, extra)
