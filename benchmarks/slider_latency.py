"""Kernel-side latency of one slider step of every explorer: in-place ipympl update vs a new figure per step.

For every explorer class (``cnn_lessons.explorers.registered()``: defining a subclass of the explorers' base
class registers it, so later lessons' explorers are measured without touching this script), one step is timed
from setting a control's ``.value`` to the finished frame the browser would receive:

- ipympl, as the lessons use it: the control's callback updates the existing artists and, the page being
  "initialized" as a live JupyterLab page is, draws the figure at once (``Explorer._redraw``): ipympl
  computes the diff against the last frame, encodes it as PNG (``get_diff_image``) and sends it
  (``send_binary``; the comm is replaced by a recorder), without re-encoding a full PNG for the data URL. Had
  the explorer called ``draw_idle()`` instead, the page's "draw" request is simulated (handed to the canvas,
  exactly as ipympl's comm handler does) and the time includes that frame.
- baseline, as ``interactive_output`` with the inline backend does it: a NEW Figure of the same picture built
  from the same control values (``explorer.static_figure()``), drawn completely and encoded as PNG
  (``fig.savefig(BytesIO(), format="png")``).

Both run through the same control values (the ``benchmark_steps()`` tour, cycled) after a warm-up tour, in
separate blocks; the baselines draw a sample of the timed states (``--baseline-steps``). The table gives p50/p95
in ms, and each explorer ends with one summary line:
``slider_latency explorer=NAME p50_ms=... p95_ms=... baseline_p50_ms=... speedup=...``.

Run: ``.venv/bin/python benchmarks/slider_latency.py [--steps 30]``. Timings vary with the machine and its load;
compare the ratios within one run.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import os
import pickle
import platform
import statistics
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("agg")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnn_lessons import drawing, explorers  # noqa: E402

TARGET_P50_MS = 15.0
TARGET_SPEEDUP = 5.0


def explorer_classes() -> list[type]:
    """Every explorer class (the registry of :class:`cnn_lessons.explorers.Explorer`), in the order defined."""
    return explorers.registered()


class Page:
    """The browser side of one ipympl canvas, reduced to what matters for timing: it asks for a frame after each
    "draw" message and receives the PNG frames."""

    def __init__(self, canvas):
        self.canvas = canvas
        self.draw_requests = 0
        self.frames: list[int] = []  # PNG bytes per frame
        canvas.send = self._receive  # the instance attribute replaces the comm for this canvas only
        canvas._handle_message(canvas, {"type": "initialized"}, [])
        canvas._handle_message(canvas, {"type": "send_image_mode"}, [])
        canvas._handle_message(canvas, {"type": "refresh"}, [])
        self.answer()

    def _receive(self, content, buffers=None) -> None:
        message = json.loads(content["data"])
        if message["type"] == "draw":
            self.draw_requests += 1
        elif message["type"] == "binary":
            data = bytes(buffers[0])
            assert data[:8] == b"\x89PNG\r\n\x1a\n", "ipympl sent a frame that is not a PNG"
            self.frames.append(len(data))

    def answer(self) -> bool:
        """Ask for the frame the way ipympl's page does (one "draw" request however many messages came)."""
        asked = self.draw_requests > 0
        if asked:
            self.draw_requests = 0
            self.canvas._handle_message(self.canvas, {"type": "draw"}, [])
        return asked


def ipympl_step(explorer, page: Page, control, value) -> tuple[float, float] | None:
    """(wall, CPU) seconds from setting the value to the sent PNG frame; None if nothing changed (no frame)."""
    frames = len(page.frames)
    start, cpu = time.perf_counter(), time.process_time()
    control.value = value
    page.answer()  # only if the explorer asked for a frame instead of sending it (draw_idle)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    sent = len(page.frames) - frames
    if sent == 0:
        return None
    assert sent == 1, f"one slider step sent {sent} frames"
    return elapsed, cpu


def has_static_figure(explorer) -> bool:
    return type(explorer).static_figure is not explorers.Explorer.static_figure


def baseline_step(explorer, *, naive: bool = True) -> float:
    """Seconds for a new Figure of the same picture, drawn and encoded as PNG: ``static_figure()``, or, for an
    explorer without one, an unpickled copy of its figure (every artist rebuilt). ``naive``: with
    ``drawing.naive_drawing()``, so that every label is drawn as its own Text and every cell as its own patch, the
    way matplotlib code usually draws (the baseline); otherwise with the project's bulk artists."""
    with drawing.naive_drawing() if naive else contextlib.nullcontext():
        start = time.perf_counter()
        if has_static_figure(explorer):
            fig = explorer.static_figure()
        else:
            fig = pickle.loads(pickle.dumps(explorer.fig))
        with io.BytesIO() as png:
            fig.savefig(png, format="png")
        return time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def measure(cls, steps: int, baseline_steps: int) -> dict:
    """Time ``steps`` slider steps of a ``cls.example()`` through ipympl, then the baseline on the same states.

    The two are timed in separate blocks (the baseline's garbage would otherwise land in the ipympl steps' GC
    pauses), each on a fresh explorer that replays the same tour of ``benchmark_steps()``: a warm-up pass, then
    the timed steps (steps that change nothing are skipped and not counted).
    """
    started = time.perf_counter()
    explorer = cls.example()
    page = Page(explorer.canvas)
    tour = explorer.benchmark_steps()
    if not tour:
        raise RuntimeError(f"{cls.__name__}.benchmark_steps() gave no steps")
    for control, value in tour:  # warm-up: caches (glyph outlines, fonts), first frames
        ipympl_step(explorer, page, control, value)
    fast, fast_cpu, timed = [], [], []
    gc.collect()
    index = 0
    while len(fast) < steps:
        if index > 20 * len(tour) + steps:
            raise RuntimeError(f"{cls.__name__}: its benchmark steps change nothing")
        control, value = tour[index % len(tour)]
        elapsed = ipympl_step(explorer, page, control, value)
        if elapsed is not None:
            fast.append(elapsed[0] * 1e3)
            fast_cpu.append(elapsed[1] * 1e3)
            timed.append(index)
        index += 1
    width, height = explorer.canvas.get_width_height()
    frames = page.frames[-len(fast) :]
    explorer.close()

    explorer = cls.example()  # the baseline: the same states, each drawn as a new figure
    tour = explorer.benchmark_steps()
    for control, value in tour:
        control.value = value
    baseline_step(explorer)
    baseline_step(explorer, naive=False)
    slow, newfig = [], []
    gc.collect()
    every = max(1, len(timed) // baseline_steps)
    sampled = set(timed[::every][:baseline_steps])  # spread over the timed states
    for index in range(timed[-1] + 1):
        control, value = tour[index % len(tour)]
        control.value = value
        if index in sampled:
            slow.append(baseline_step(explorer) * 1e3)
            newfig.append(baseline_step(explorer, naive=False) * 1e3)
    baseline = "static_figure()" if has_static_figure(explorer) else "pickled copy of the figure"
    explorer.close()
    gc.collect()
    return {
        "name": cls.__name__,
        "steps": len(fast),
        "p50": statistics.median(fast),
        "p95": percentile(fast, 95),
        "cpu_p50": statistics.median(fast_cpu),
        "baseline_p50": statistics.median(slow),
        "baseline_p95": percentile(slow, 95),
        "newfig_p50": statistics.median(newfig),
        "frame_kb": statistics.median(frames) / 1024,
        "pixels": f"{width}x{height}",
        "baseline": baseline,
        "seconds": time.perf_counter() - started,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="timed steps per explorer (default 30)")
    parser.add_argument(
        "--baseline-steps", type=int, default=10, help="states drawn by each baseline, spread over the timed steps"
    )
    parser.add_argument("--only", nargs="*", help="explorer class names to measure (default: all)")
    args = parser.parse_args(argv)
    classes = [cls for cls in explorer_classes() if not args.only or cls.__name__ in args.only]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"slider latency: {len(classes)} explorers, {args.steps} steps each ({args.baseline_steps} for the baselines), "
        f"python {platform.python_version()}, "
        f"matplotlib {matplotlib.__version__}, {os.cpu_count()} cores, load {load:.2f}"
    )
    print("ipympl:   set value -> callback updates artists -> draw -> diff PNG -> send (the page is live)")
    print("baseline: new Figure of the same picture, one Text per label and one patch per cell -> draw -> PNG")
    print("new fig:  new Figure of the same picture with the bulk artists (drawing.bulk_drawing() on) -> draw -> PNG\n")
    started = time.perf_counter()
    results = [measure(cls, args.steps, args.baseline_steps) for cls in classes]
    header = (
        f"{'explorer':<24} {'frame px':>9} {'steps':>5} {'p50 ms':>7} {'p95 ms':>7} {'cpu p50':>7} {'base p50':>9} "
        f"{'base p95':>9} "
        f"{'speedup':>8} {'newfig p50':>10} {'diff KB':>8} {'secs':>5}  target: p50 <= {TARGET_P50_MS:.0f} ms, >= "
        f"{TARGET_SPEEDUP:.0f}x"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        r["speedup"] = r["baseline_p50"] / r["p50"]
        met = r["p50"] <= TARGET_P50_MS and r["speedup"] >= TARGET_SPEEDUP
        print(
            f"{r['name']:<24} {r['pixels']:>9} {r['steps']:>5} {r['p50']:>7.1f} {r['p95']:>7.1f} {r['cpu_p50']:>7.1f} "
            f"{r['baseline_p50']:>9.1f} {r['baseline_p95']:>9.1f} {r['speedup']:>7.1f}x {r['newfig_p50']:>10.1f} "
            f"{r['frame_kb']:>8.1f} {r['seconds']:>5.1f}  {'met' if met else 'MISSED'}"
        )
    for r in results:
        if r["baseline"] != "static_figure()":
            print(f"({r['name']} has no static_figure(): its baselines draw a {r['baseline']})")
    print("(p50/p95: wall-clock ms per step; cpu p50: this process's CPU ms per step, less sensitive to other load)")
    print(f"\ntotal {time.perf_counter() - started:.1f} s\n")
    for r in results:
        print(
            f"slider_latency explorer={r['name']} p50_ms={r['p50']:.1f} p95_ms={r['p95']:.1f} "
            f"baseline_p50_ms={r['baseline_p50']:.1f} speedup={r['speedup']:.1f} newfig_p50_ms={r['newfig_p50']:.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
