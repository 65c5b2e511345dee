"""The animations of ``assets/animations``: a tour of every explorer, and the guide's classic figures redrawn.

Each animation is an explorer moved through one control's values (:mod:`cnn_lessons.explorers.animation`),
written as a GIF whose bytes are reproducible, like the figures of :mod:`cnn_lessons.figures`:
``cnn-lessons animations`` writes them, ``--check`` compares a fresh drawing with the committed files.

- :data:`TOURS`: one per explorer, named after the explorer (``conv-arithmetic-stride``).
- :data:`GUIDE`: Dumoulin & Visin's classic figures (no, half and full padding, strided, dilated and transposed
  convolutions) drawn by our explorers, the kernel sliding over every output cell (or, transposed, every input
  cell stamping its copy), each captioned with its relationship (:mod:`cnn_lessons.relationships`) and the
  PyTorch layer.
- :data:`ANIMATIONS`: both, by name (the file is ``NAME.gif``); :func:`render`, :func:`save_animations`,
  :func:`compare_animations`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from cnn_lessons import data, explorers, relationships
from cnn_lessons.explorers import animation
from cnn_lessons.figures import Comparison, FiguresExist

__all__ = [
    "EXACT_KERNELS",
    "MAX_BYTES",
    "Tour",
    "GuideFigure",
    "TOURS",
    "GUIDE",
    "ANIMATIONS",
    "render",
    "save_animations",
    "compare_animations",
]

EXACT_KERNELS = ("identity", "sharpen", "sobel x", "sobel y", "laplacian")
"""The kernel picker's tour: the classic kernels with integer weights."""
MAX_BYTES = 1_000_000
"""Every committed animation is smaller than this (a slide deck carries several)."""


@dataclass(frozen=True)
class Tour:
    """One animation: an explorer made by ``make``, the control it moves, the values, the caption, the pace."""

    make: Callable[[], explorers.Explorer]
    control: str
    values: tuple | None = None
    caption: str | Callable[[object], str] | None = None
    frame_ms: int = animation.FRAME_MS

    def frames(self):
        """The RGB frames (:func:`cnn_lessons.explorers.animation.tour_frames`) of a freshly made explorer."""
        explorer = self.make()
        try:
            return animation.tour_frames(explorer, self.control, self.values, self.caption)
        finally:
            explorer.close()

    def gif(self) -> bytes:
        """The animation as GIF bytes."""
        return animation.gif_bytes(self.frames(), self.frame_ms)


@dataclass(frozen=True)
class GuideFigure:
    """One of the guide's classic figures: relationship ``number`` at ``config`` (the guide's names: i, k, ...)."""

    number: int
    config: dict = field(hash=False)

    @property
    def relationship(self) -> relationships.Relationship:
        """The relationship the figure illustrates."""
        return relationships.relationship(self.number)

    @property
    def transposed(self) -> bool:
        """Whether it is a transposed convolution (relationships 8 to 14)."""
        return self.relationship.family == "transposed"

    def torch_layer(self) -> str:
        """The PyTorch layer, settings at their defaults left out: ``nn.Conv2d(1, 1, kernel_size=3, padding=1)``."""
        c = self.config
        settings = [f"kernel_size={c['k']}"]
        for name, key, default in (("stride", "s", 1), ("padding", "p", 0), ("output_padding", "a", 0)):
            if c.get(key, default) != default:
                settings.append(f"{name}={c[key]}")
        if c.get("d", 1) != 1:
            settings.append(f"dilation={c['d']}")
        layer = "ConvTranspose2d" if self.transposed else "Conv2d"
        return f"nn.{layer}(1, 1, {', '.join(settings)})"

    def caption(self) -> str:
        """Three lines: the relationship's number and condition; its formula and worked numbers; the PyTorch layer."""
        rel = self.relationship
        return (
            f"Relationship {rel.number}: {rel.condition}\n"
            f"{rel.formula_text()}, so {rel.worked(self.config)}\n"
            f"PyTorch: {self.torch_layer()}"
        )

    def explorer(self) -> explorers.Explorer:
        """The explorer set to this figure's configuration."""
        c = self.config
        if self.transposed:
            return explorers.TransposedExplorer(
                size=c["i_"],
                kernel_size=c["k"],
                stride=c.get("s", 1),
                padding=c.get("p", 0),
                output_padding=c.get("a", 0),
            )
        return explorers.ConvArithmeticExplorer(
            size=c["i"], kernel_size=c["k"], stride=c.get("s", 1), padding=c.get("p", 0), dilation=c.get("d", 1)
        )

    def tour(self) -> Tour:
        """Every output cell in turn (transposed: every input cell stamping its kernel copy), captioned."""
        return Tour(self.explorer, "cell" if self.transposed else "position", caption=self.caption(), frame_ms=600)


GUIDE: dict[str, GuideFigure] = {
    "guide-no-padding": GuideFigure(1, {"i": 4, "k": 3}),
    "guide-half-padding": GuideFigure(3, {"i": 5, "k": 3, "p": 1}),
    "guide-full-padding": GuideFigure(4, {"i": 5, "k": 3, "p": 2}),
    "guide-strided": GuideFigure(6, {"i": 5, "k": 3, "s": 2, "p": 1}),
    "guide-dilated": GuideFigure(15, {"i": 7, "k": 3, "s": 1, "p": 0, "d": 2}),
    "guide-transposed": GuideFigure(8, {"i_": 2, "k": 3}),
    "guide-transposed-strided": GuideFigure(13, {"i_": 3, "k": 3, "s": 2, "p": 1}),
}
"""The guide's classic animations (arXiv:1603.07285, its figures 2.1-2.7, 4.1-4.6 and 5.1), at its sizes."""


def _kernel_picker() -> explorers.KernelPicker:
    """The kernel picker on the lesson's photo rounded to multiples of 1/256 (no visible change).

    With such a photo and integer weights every filtered value is exact in float32, whatever order a processor
    sums in, so the GIF is the same bytes on any machine; the box blur's 1/9 is not exact, so its tour leaves it out.
    """
    return explorers.KernelPicker(image=torch.round(data.load_photo() * 256) / 256)


def _untrained_caption(value) -> str:
    return f"layer = {value}\na freshly initialised network (seed 0): the lesson trains it first"


TOURS: dict[str, Tour] = {
    "step-through-position": Tour(explorers.StepThroughExplorer, "position", frame_ms=500),
    "kernel-picker-kernel": Tour(_kernel_picker, "kernel", EXACT_KERNELS, frame_ms=1200),
    "conv-arithmetic-stride": Tour(explorers.ConvArithmeticExplorer, "stride", frame_ms=1200),
    "receptive-field-layers": Tour(explorers.ReceptiveFieldExplorer, "layers", frame_ms=1200),
    "feature-maps-layer": Tour(
        explorers.FeatureMapExplorer.example, "layer", caption=_untrained_caption, frame_ms=1500
    ),
    "model-explorer-model": Tour(explorers.ModelExplorer, "model", frame_ms=1200),
    "activations-init": Tour(explorers.ActivationExplorer, "init", frame_ms=1500),
    "transposed-stride": Tour(explorers.TransposedExplorer, "stride", frame_ms=1200),
}
"""A tour of each explorer: the control that shows best what it is for."""

ANIMATIONS: dict[str, Tour] = {**TOURS, **{name: figure.tour() for name, figure in GUIDE.items()}}
"""Every animation of ``assets/animations``: its name (the file is ``NAME.gif``) and its tour."""


def render(name: str) -> bytes:
    """Animation ``name`` (a key of :data:`ANIMATIONS`) as GIF bytes, the same every time."""
    if name not in ANIMATIONS:
        raise KeyError(f"no animation called {name!r}; the animations are {', '.join(ANIMATIONS)}")
    return ANIMATIONS[name].gif()


def save_animations(out_dir, force: bool = False, names=None) -> list[Path]:
    """Draw the animations (default: all of :data:`ANIMATIONS`) and write each as ``out_dir/NAME.gif``.

    As :func:`cnn_lessons.figures.save_figures`: ``out_dir`` is created if needed, nothing is written without
    ``force`` when a file would be overwritten (:class:`~cnn_lessons.figures.FiguresExist` lists them), and every
    animation is drawn before the first file is written. Other files in ``out_dir`` are left alone.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError("it is a file, not a folder")
    names = list(ANIMATIONS if names is None else names)
    paths = {name: out / f"{name}.gif" for name in names}
    clashes = [path for path in paths.values() if path.exists()]
    if clashes and not force:
        raise FiguresExist(clashes)
    out.mkdir(parents=True, exist_ok=True)
    gifs = {name: render(name) for name in names}
    for name, path in paths.items():
        path.write_bytes(gifs[name])
    return list(paths.values())


def compare_animations(out_dir, names=None) -> Comparison:
    """Draw the animations again (default: all) and compare each byte for byte with ``out_dir/NAME.gif``.

    ``extra``: GIFs in ``out_dir`` that no animation writes (checked only when comparing all of them).
    """
    out = Path(out_dir)
    if not out.is_dir():
        raise NotADirectoryError(f"no folder {out}")
    found = {}  # file name -> what it is: same, differ or missing
    for name in ANIMATIONS if names is None else names:
        path = out / f"{name}.gif"
        if not path.is_file():
            found[path.name] = "missing"
        else:
            found[path.name] = "same" if path.read_bytes() == render(name) else "differ"
    drawn = {f"{name}.gif" for name in ANIMATIONS}
    extra = sorted(p.name for p in out.glob("*.gif") if p.name not in drawn) if names is None else []
    kinds = ("same", "differ", "missing")
    same, differ, missing = ([file for file, state in found.items() if state == kind] for kind in kinds)
    return Comparison(same, differ, missing, extra)
