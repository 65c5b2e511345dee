"""An explorer's tour as an animation for slides: one control moved through its values, one frame per value.

:meth:`Explorer.animate <cnn_lessons.explorers.Explorer.animate>` calls :func:`animate`. Each frame is the
explorer's own live figure (its view updated in place by the control's move, exactly as a student sees it),
drawn with Agg at a fixed dpi under matplotlib's default style, with an optional caption band above it. The frames
are written as an animated GIF through Pillow (always available: matplotlib needs it), or as an MP4 through
ffmpeg where the machine has it.

A GIF is the same bytes every time for the same code and pinned packages: no timestamps, one palette for all
frames (the colours they use most, no dithering), fixed frame durations. ``cnn-lessons animations`` relies on
that to check the committed ones (:mod:`cnn_lessons.animations`).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import ipywidgets as widgets
import matplotlib.style
import numpy as np
from matplotlib.figure import Figure
from PIL import Image

__all__ = [
    "FRAME_MS",
    "CAPTION_PX",
    "FRAME_DPI",
    "tour_controls",
    "find_control",
    "tour_values",
    "caption_text",
    "tour_frames",
    "PALETTE_SPACING",
    "gif_palette",
    "gif_bytes",
    "gif_frame_count",
    "write_mp4",
    "animate",
]

FRAME_MS = 700
"""How long each frame shows, in milliseconds (a GIF stores hundredths of a second: a multiple of 10)."""
CAPTION_PX = 26
"""Height of the caption band above the picture, in pixels, per caption line."""
FRAME_DPI = 100
"""Pixels per inch of the frames: the explorers' canvases' own (a 7.4 inch wide picture is 740 pixels)."""


def _tourable(control) -> bool:
    if isinstance(control, (widgets.IntSlider, widgets.FloatSlider, widgets.Checkbox, widgets.ToggleButton)):
        return True
    return isinstance(control, widgets.ValueWidget) and hasattr(control, "options")


def tour_controls(explorer) -> dict[str, widgets.ValueWidget]:
    """The explorer's controls a tour can move, by attribute name (sliders, choices, check boxes)."""
    mine = {id(widget) for widget in explorer._widgets()}
    return {
        name: value
        for name, value in vars(explorer).items()
        if not name.startswith("_") and id(value) in mine and _tourable(value)
    }


def find_control(explorer, control) -> widgets.ValueWidget:
    """``control`` as a widget: the widget itself, or the name of the explorer's attribute that holds it."""
    if isinstance(control, widgets.Widget):
        if not _tourable(control):
            raise TypeError(f"a tour moves a slider, a choice or a check box, not a {type(control).__name__}")
        return control
    known = tour_controls(explorer)
    if control not in known:
        names = ", ".join(repr(name) for name in known) or "none"
        raise ValueError(f"{type(explorer).__name__} has no control {control!r} to tour; its controls are {names}")
    return known[control]


def tour_values(control: widgets.ValueWidget) -> list:
    """Every value of ``control`` in order: a slider's min to max by its step, a choice's options, off then on."""
    if isinstance(control, (widgets.Checkbox, widgets.ToggleButton)):
        return [False, True]
    if isinstance(control, widgets.IntSlider):
        return list(range(control.min, control.max + 1, control.step))
    if isinstance(control, widgets.FloatSlider):
        count = int(round((control.max - control.min) / control.step)) + 1
        return [round(control.min + n * control.step, 10) for n in range(count)]
    options = control.options
    if isinstance(options, dict):
        return list(options.values())
    return [option[1] if isinstance(option, tuple) else option for option in options]


def caption_text(control: widgets.ValueWidget, name: str, value) -> str:
    """The default caption of a frame: the control's label and its value, ``stride = 2``."""
    label = getattr(control, "description", "") or name
    return f"{label} = {value}"


def _rgb(fig: Figure, dpi: int = FRAME_DPI) -> np.ndarray:
    """``fig`` drawn by Agg at ``dpi`` on white, as an (H, W, 3) uint8 array.

    ``savefig`` draws on a canvas of its own and gives the figure its canvas back, so an explorer's live canvas
    keeps working; the dpi is fixed, so a HiDPI screen (which raises a live figure's dpi) changes nothing.
    """
    buffer = io.BytesIO()
    with matplotlib.style.context("default"):
        fig.savefig(buffer, format="rgba", dpi=dpi, facecolor="white")
    rgba = np.frombuffer(buffer.getvalue(), np.uint8)
    inches = fig.get_size_inches() * dpi  # Agg's size in pixels, give or take the rounding of 852.9999...
    sizes = [(w, h) for w in (int(inches[0]), round(inches[0])) for h in (int(inches[1]), round(inches[1]))]
    width, height = next((w, h) for w, h in sizes if w * h * 4 == rgba.size)
    return rgba.reshape(height, width, 4)[..., :3].copy()


def _caption_band(caption: str, width: int) -> np.ndarray:
    """A white band ``width`` pixels wide with ``caption`` written in it, one :data:`CAPTION_PX` row per line."""
    lines = caption.splitlines() or [""]
    band = CAPTION_PX * len(lines)
    with matplotlib.style.context("default"):
        fig = Figure(figsize=(width / FRAME_DPI, band / FRAME_DPI), dpi=FRAME_DPI)
        for n, line in enumerate(lines):
            y = 1 - (n + 0.5) / len(lines)
            weight = "bold" if n == 0 else "normal"
            fig.text(12 / width, y, line, va="center", ha="left", fontsize=11, weight=weight, color="#222222")
        return _rgb(fig)[:band, :width]


def tour_frames(
    explorer,
    control,
    values: Sequence | None = None,
    caption: str | Callable[[object], str] | None | bool = None,
) -> list[np.ndarray]:
    """One RGB frame per value of ``control``: the explorer's live picture after setting it, captioned.

    ``values``: default every value (:func:`tour_values`). ``caption``: ``None`` writes ``label = value``; a string
    is written on every frame; a function of the value returns each frame's caption; ``False`` writes none. The
    control gets its first value back afterwards (a control that follows another, such as an output cell's
    maximum, may stay where the tour left it).
    """
    widget = find_control(explorer, control)
    name = control if isinstance(control, str) else (widget.description or type(widget).__name__)
    values = tour_values(widget) if values is None else list(values)
    if not values:
        raise ValueError(f"a tour needs at least one value of {name!r}, got none")
    before = widget.value
    frames = []
    try:
        for value in values:
            widget.value = value  # the explorer's own observer updates it, as a student's move does
            picture = _rgb(explorer.fig)  # the live picture, as a student sees it after this move
            text = caption_text(widget, name, widget.value) if caption is None else caption
            if callable(text):
                text = text(widget.value)
            frames.append(np.concatenate([_caption_band(text, picture.shape[1]), picture]) if text else picture)
    finally:
        widget.value = before
    return _same_size(frames)


def _same_size(frames: list[np.ndarray]) -> list[np.ndarray]:
    """Frames padded with white at the right and bottom to the largest one's size (a GIF has one size)."""
    height = max(f.shape[0] for f in frames)
    width = max(f.shape[1] for f in frames)
    padded = []
    for frame in frames:
        canvas = np.full((height, width, 3), 255, np.uint8)
        canvas[: frame.shape[0], : frame.shape[1]] = frame
        padded.append(canvas)
    return padded


def _packed(frame: np.ndarray) -> np.ndarray:
    """Each pixel's colour as one int, 0xRRGGBB."""
    return frame[..., 0].astype(np.int64) << 16 | frame[..., 1].astype(np.int64) << 8 | frame[..., 2]


def _rgb_of(packed: np.ndarray) -> np.ndarray:
    return np.stack([packed >> 16, (packed >> 8) & 255, packed & 255], axis=-1)


PALETTE_SPACING = 10
"""Colours of a GIF's palette lie at least this far apart (Euclidean, 0-255 RGB), so that a photo's 256 greys do
not crowd out a colour map's reds and blues."""


def gif_palette(frames: Sequence[np.ndarray]) -> np.ndarray:
    """One palette for all ``frames``, sorted 0xRRGGBB values (at most 256 colours).

    The colours the frames use most come first (ties: the smaller value), each kept only if it is at least
    :data:`PALETTE_SPACING` from those kept before; the rest take the nearest palette colour. An explorer's picture
    is mostly flat colours (white, the cells' fills, a colour map's steps), which stay exact. One palette for
    every frame keeps the colours from flickering, and the bytes depend on nothing but the frames.
    """
    counts = np.bincount(np.concatenate([_packed(f).ravel() for f in frames]), minlength=1 << 24)
    used = np.flatnonzero(counts)
    used = used[np.lexsort((used, -counts[used]))]
    if len(used) <= 256:
        return np.sort(used)
    candidates = _rgb_of(used)
    kept = [0]
    nearest = ((candidates - candidates[0]) ** 2).sum(axis=1)  # squared distance of each to the nearest kept
    while len(kept) < 256:
        far = np.flatnonzero(nearest >= PALETTE_SPACING**2)
        if len(far) == 0:
            break
        kept.append(int(far[0]))  # the most used colour far from every kept one
        nearest = np.minimum(nearest, ((candidates - candidates[far[0]]) ** 2).sum(axis=1))
    return np.sort(used[kept])


def _indexed(frame: np.ndarray, palette: np.ndarray) -> Image.Image:
    """``frame`` as a "P" image on ``palette`` (sorted 0xRRGGBB): exact colours where it has them, else the nearest."""
    packed = _packed(frame)
    index = np.clip(np.searchsorted(palette, packed), 0, len(palette) - 1)
    missing = palette[index] != packed
    if missing.any():
        colours, inverse = np.unique(packed[missing], return_inverse=True)
        distance = ((_rgb_of(colours)[:, None, :] - _rgb_of(palette)[None, :, :]) ** 2).sum(axis=2)
        index[missing] = distance.argmin(axis=1)[inverse]
    image = Image.fromarray(index.astype(np.uint8), "P")
    image.putpalette(_rgb_of(palette).astype(np.uint8).tobytes())
    return image


def gif_bytes(frames: Sequence[np.ndarray], frame_ms: int = FRAME_MS) -> bytes:
    """An animated GIF of ``frames`` (RGB arrays of one size), looping, each shown ``frame_ms`` milliseconds.

    Every frame is mapped (no dithering) to one palette, :func:`gif_palette`.
    """
    if not frames:
        raise ValueError("a GIF needs at least one frame")
    if len({f.shape for f in frames}) != 1 or frames[0].ndim != 3 or frames[0].shape[2] != 3:
        raise ValueError(f"frames must be RGB arrays of one size, got {sorted({f.shape for f in frames})}")
    if frame_ms < 20 or frame_ms % 10:
        raise ValueError(f"frame_ms must be a multiple of 10 ms, at least 20 (a GIF counts in 1/100 s), got {frame_ms}")
    palette = gif_palette(frames)
    images = [_indexed(frame, palette) for frame in frames]
    buffer = io.BytesIO()
    images[0].save(
        buffer, format="GIF", save_all=True, append_images=images[1:], duration=frame_ms, loop=0, optimize=False
    )
    return buffer.getvalue()


def gif_frame_count(data: bytes) -> int:
    """How many frames the GIF ``data`` holds."""
    with Image.open(io.BytesIO(data)) as image:
        return image.n_frames


def write_mp4(frames: Sequence[np.ndarray], path, frame_ms: int = FRAME_MS) -> Path:
    """``frames`` as an H.264 MP4 through ffmpeg (which must be on PATH); returns the path."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError(
            "writing an MP4 needs ffmpeg, which is not on PATH (apt-get install ffmpeg); "
            "a .gif works everywhere: animate('tour.gif', ...)"
        )
    height, width = frames[0].shape[:2]
    even = [np.pad(f, ((0, height % 2), (0, width % 2), (0, 0)), constant_values=255) for f in frames]
    rate = f"1000/{frame_ms}"
    command = [ffmpeg, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24"]
    command += ["-s", f"{width + width % 2}x{height + height % 2}", "-framerate", rate, "-i", "-"]
    command += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-r", "25", "-map_metadata", "-1", str(path)]
    done = subprocess.run(command, input=b"".join(f.tobytes() for f in even), capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg could not write {path}: {done.stderr.decode(errors='replace')[-500:]}")
    return Path(path)


def animate(
    explorer,
    path,
    control,
    values: Sequence | None = None,
    *,
    caption: str | Callable[[object], str] | None | bool = None,
    frame_ms: int = FRAME_MS,
) -> Path:
    """Write a tour of ``control`` (see :func:`tour_frames`) to ``path``: a ``.gif`` (Pillow) or ``.mp4`` (ffmpeg)."""
    path = Path(path)
    if path.suffix.lower() not in (".gif", ".mp4"):
        raise ValueError(f"an animation is written as .gif (always) or .mp4 (with ffmpeg), not {path.name!r}")
    if path.suffix.lower() == ".mp4" and shutil.which("ffmpeg") is None:
        write_mp4([], path)  # says what is missing before any frame is drawn
    frames = tour_frames(explorer, control, values, caption)
    if path.suffix.lower() == ".mp4":
        return write_mp4(frames, path, frame_ms)
    path.write_bytes(gif_bytes(frames, frame_ms))
    return path
