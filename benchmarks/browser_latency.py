"""Explorer latency in a real browser: key press -> changed pixels on screen, JupyterLab + headless Chromium.

For every explorer in the lessons (each notebook in ``notebooks/`` is run in JupyterLab, on a copy, with the
same start-up code as ``tests/browser``), the explorer's main slider is focused and stepped with the arrow
keys (an explorer without a slider gets the next option of its dropdown). In the page, a capture-phase
listener records the key event's time and a ``requestAnimationFrame`` loop hashes the canvas pixels every
frame; a step's latency runs from the key event to the first frame whose pixels differ. The kernel must be
idle again before the next key press.

Baseline, in the same run and the same kernel: a cell appended to the lesson's copy builds, for every
explorer, its naive twin: a copy of the main control plus ``interactive_output(f, ...)``, where ``f`` builds
a new figure of the same picture (``explorer.static_figure()``, as ``benchmarks/slider_latency.py`` does)
and shows it with the inline backend (a PNG). Its latency runs from the key event to the first frame with
the new, decoded ``<img>``. Explorer and twin are stepped alternately, after a warm-up tour of each.

A scratch notebook gives the floor: the smallest ipympl figure, and a slider echoed into an HTML widget.

Then every visible control of every explorer (sliders, dropdowns, toggle buttons and checkboxes, number inputs)
is changed in turn, the way a user does (arrow keys, choosing an option, a click, typing a number and Enter),
and timed the same way, by kind of control.

Goal: p50 <= 80 ms and p95 <= 120 ms for every kind of control of every explorer. Prints tables, then one line
per explorer's main control (``browser_latency explorer=NAME control=main p50_ms=... p95_ms=...
baseline_p50_ms=... speedup=...``), one per explorer and kind (``browser_latency explorer=NAME control=slider
n=... p50_ms=... p95_ms=... max_ms=...``) and a last one over all of them (``browser_latency controls=all
worst_p50_ms=... worst_p95_ms=... met=yes``). Absolute times follow the machine's load (printed).

JupyterLab runs as ``cnn-lessons lab`` starts it for students, with the lessons' settings (``jupyter-config/``).

Run: ``.venv/bin/python benchmarks/browser_latency.py [--steps 20]`` (needs /usr/bin/chromium; ~6 min).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "browser"))

import harness  # noqa: E402  (tests/browser/harness.py: the same server and browser start-up as the tests)

TARGET_P50_MS = 80.0
TARGET_P95_MS = 120.0
STEP_TIMEOUT_MS = 10_000  # a control whose change shows nothing on the canvas is reported, not waited for

# Appended to each lesson's copy: for every explorer the lesson displayed (found in IPython's Out, in order), the
# naive twin: a copy of its main control plus interactive_output(f, ...), where f builds a NEW figure of the
# same picture (the explorer's own static_figure(), as benchmarks/slider_latency.py does) and shows it with the
# inline backend (a PNG). The picture comes from a second, never displayed instance of the explorer, made by
# re-evaluating the explorer cell's last line (so it has the lesson's inputs); its ipympl canvas is muted.
BASELINE_CELL = r"""
# benchmark only: naive interactive_output + inline-matplotlib twins of the explorers above
%matplotlib inline
import ipywidgets as _ipw
import matplotlib.pyplot as _plt
from IPython.display import display as _display

from cnn_lessons import explorers as _explorers


def _main_control(explorer):
    steps = explorer.benchmark_steps()
    return steps[0][0] if steps else None


def _naive_twin(count, explorer):
    control = _main_control(explorer)
    if control is None:
        return None
    lines = [line for line in In[count].splitlines() if line.strip()]
    try:
        twin = eval(lines[-1], globals())
        assert type(twin) is type(explorer)
    except Exception:
        twin = type(explorer)()
    twin.canvas.draw_idle = lambda: None  # never displayed: no ipympl frames for it
    try:
        twin.static_figure()
    except NotImplementedError:
        return None  # this explorer has no static picture to build naively
    attribute = next(name for name, value in vars(explorer).items() if value is control)
    twin_control = getattr(twin, attribute)
    if isinstance(control, (_ipw.IntSlider, _ipw.FloatSlider)):
        copy = type(control)(
            value=control.value, min=control.min, max=control.max, step=control.step,
            description=control.description, layout=_ipw.Layout(width=control.layout.width or "420px"),
        )
    else:
        copy = _ipw.Dropdown(options=list(control.options), value=control.value, description=control.description)

    def draw(value):
        twin_control.value = value
        _display(twin.static_figure())  # a new Figure each time, shown inline as a PNG

    box = _ipw.VBox([copy, _ipw.interactive_output(draw, {"value": copy})])
    return box


_seen = {}
for _count in sorted(Out):
    _e = Out[_count]
    if type(_e) not in _explorers.registered():  # every explorer class, wherever it is defined
        continue
    _name = type(_e).__name__
    _seen[_name] = _seen.get(_name, 0) + 1
    _box = _naive_twin(_count, _e)
    if _box is not None:
        _box.add_class(f"cnn-lessons-baseline-{_name}-{_seen[_name]}")
        _display(_box)
_plt.close("all")
"""

# Calibration, in a scratch notebook: the smallest ipympl figure and a widget with no figure at all, stepped the
# same way. They give the floor that the messages alone cost (key -> kernel -> page).
FLOOR_CELLS = [
    r"""import ipywidgets as ipw
import matplotlib.figure
import numpy as np

from cnn_lessons.explorers import explorer_canvas

fig = matplotlib.figure.Figure(figsize=(2, 1.5), dpi=100)
(line,) = fig.add_subplot().plot(np.arange(10))
canvas = explorer_canvas(fig, toolbar_visible=False)
tiny = ipw.IntSlider(value=0, min=0, max=9, description="shift")


def shift(change):
    line.set_ydata(np.roll(np.arange(10), change["new"]))
    if canvas.syncing_data_url:  # no page yet: let it ask
        canvas.draw_idle()
    else:  # a live page: draw and send the frame now, as the explorers do (Explorer._redraw)
        canvas.draw()


tiny.observe(shift, "value")
ipw.VBox([tiny, canvas])""",
    r"""echo = ipw.IntSlider(value=0, min=0, max=9, description="echo")
said = ipw.HTML("0")
echo.observe(lambda change: setattr(said, "value", str(change["new"])), "value")
box = ipw.VBox([echo, said])
box.add_class("cnn-lessons-echo")
box""",
]

# In-page stopwatch: arm() before the key press; the first keydown/input/change event starts it and the first
# animation frame whose picture differs stops it.
JS_INSTALL = r"""() => {
  const signatures = {
    canvas(root) {  // a hash of every pixel of the ipympl canvas
      const c = root.querySelector('.jupyter-matplotlib-canvas-div canvas');
      if (!c || !c.width || !c.height) return null;
      const d = new Uint32Array(c.getContext('2d').getImageData(0, 0, c.width, c.height).data.buffer);
      let h = 2166136261 >>> 0;
      for (let i = 0; i < d.length; i++) h = Math.imul(h ^ d[i], 16777619) >>> 0;
      return c.width + 'x' + c.height + ':' + h;
    },
    img(root) {  // the inline PNG, once it is alone in the output and decoded
      const imgs = root.querySelectorAll('.widget-output img');
      if (imgs.length !== 1 || !imgs[0].complete || !imgs[0].naturalWidth) return null;
      return imgs[0].src;
    },
    text(root) {
      const html = root.querySelector('.widget-html-content');
      return html ? html.textContent : null;
    },
  };
  // Hooks on browser functions every step passes through. They time the phases of a step (the first call
  // after the key event: the comm message leaves for the kernel by WebSocket.send; ipympl turns the arriving
  // frame into an image with URL.createObjectURL, and copies its picture with canvas.toDataURL, whose time
  // is summed), and they tell the stopwatch when a canvas in the watched box was drawn on (drawImage), so it
  // reads the canvas pixels only then, not on every animation frame: hashing a whole canvas every 16 ms
  // would take CPU from the kernel and the server on a small machine, slowing what it measures.
  if (!window.__phaseHooks) {
    window.__phaseHooks = true;
    const live = () => {
      const state = window.__stopwatchState;
      return state && state.t0 !== null && !state.done ? state : null;
    };
    const note = (key) => {
      const state = live();
      if (state && state[key] === null) state[key] = performance.now();
    };
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (...args) { note('sent'); return send.apply(this, args); };
    const createObjectURL = URL.createObjectURL;
    URL.createObjectURL = function (blob) {
      if (blob && blob.type === 'image/png') note('frame');
      return createObjectURL.call(URL, blob);
    };
    const toDataURL = HTMLCanvasElement.prototype.toDataURL;
    HTMLCanvasElement.prototype.toDataURL = function (...args) {
      const start = performance.now();
      const result = toDataURL.apply(this, args);
      const state = live();
      if (state) state.encode += performance.now() - start;
      return result;
    };
    const drawImage = CanvasRenderingContext2D.prototype.drawImage;
    CanvasRenderingContext2D.prototype.drawImage = function (...args) {
      const result = drawImage.apply(this, args);
      const state = window.__stopwatchState;
      if (state && state.root.contains(this.canvas)) state.drawn += 1;
      return result;
    };
  }
  window.__stopwatch = {
    arm(root, kind) {
      const signature = signatures[kind];
      const state = {root, t0: null, t1: null, done: false, before: signature(root), drawn: 0, checked: 0};
      Object.assign(state, {sent: null, frame: null, encode: 0});
      const start = (event) => { if (state.t0 === null) state.t0 = event.timeStamp; };
      const events = ['keydown', 'input', 'change', 'click'];
      events.forEach(e => document.addEventListener(e, start, true));
      const tick = () => {
        const now = performance.now();
        if (state.t0 !== null && (kind !== 'canvas' || state.drawn > state.checked)) {
          state.checked = state.drawn;
          const s = signature(root);
          if (s !== null && s !== state.before) {
            state.t1 = now;
            state.done = true;
            events.forEach(e => document.removeEventListener(e, start, true));
            return;
          }
        }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      window.__stopwatchState = state;
    },
  };
}"""


def explorer_name(page: harness.NotebookPage, explorer, index: int) -> str:
    """The explorer's class, read from its cell's last line (``widgets.StepThroughExplorer(...)``)."""
    cell = explorer.locator("xpath=ancestor::div[contains(concat(' ', @class, ' '), ' jp-Cell ')]").first
    source = cell.locator(".jp-InputArea-editor").text_content()  # drawn or not (windowing)
    lines = [line for line in source.splitlines() if line.strip()]
    match = re.search(r"([A-Z]\w*)\s*\(", lines[-1]) if lines else None
    return match.group(1) if match else f"{page.notebook.stem}-{index}"


# the controls of a widget box, by kind: (kind, CSS selector of one control); a toggle group is stepped by clicking
# its next button, a text input by typing a new number and pressing Enter
CONTROL_KINDS = (
    ("slider", harness.SLIDER_HANDLE),
    ("dropdown", harness.DROPDOWN),
    ("toggle", ".widget-toggle-buttons"),
    ("toggle", ".widget-checkbox input"),
    ("text", ".widget-text input"),
)


def _enabled(control) -> bool:
    return control.evaluate("c => !(c.closest('[disabled]') || c.disabled)")


def controls(root) -> list[tuple[str, object]]:
    """Every visible, enabled control in the widget box ``root``: (kind, locator), kinds as CONTROL_KINDS says."""
    found = []
    for kind, selector in CONTROL_KINDS:
        located = root.locator(selector)
        for i in range(located.count()):
            control = located.nth(i)
            if control.is_visible() and _enabled(control):
                found.append((kind, control))
    return found


class Target:
    """One control of a widget box, stepped back and forth; ``kind`` says what to watch for a change (canvas
    pixels, an inline image, text); ``control_kind`` what the control is (slider, dropdown, toggle, text)."""

    def __init__(self, page: harness.NotebookPage, root, kind: str, control=None, control_kind: str | None = None):
        self.page, self.root, self.kind = page, root, kind
        if control is None:
            control_kind, control = harness.main_control(root)
            if control_kind is None:
                raise ValueError("no slider or dropdown to step")
        self.control_kind, self.control = control_kind, control
        if control_kind == "slider":
            self.value = round(float(control.get_attribute("aria-valuenow")))
            self.low = round(float(control.get_attribute("aria-valuemin")))
            self.high = round(float(control.get_attribute("aria-valuemax")))
        elif control_kind == "dropdown":
            self.options = control.locator("option").evaluate_all("os => os.map(o => o.value)")
            self.value, self.low, self.high = self.options.index(control.input_value()), 0, len(self.options) - 1
        elif control_kind == "toggle" and control.evaluate("c => c.tagName") != "INPUT":  # a group of buttons
            self.buttons = control.locator(".widget-toggle-button")
            active = self.buttons.evaluate_all("bs => bs.findIndex(b => b.classList.contains('mod-active'))")
            self.value, self.low, self.high = max(active, 0), 0, self.buttons.count() - 1
        elif control_kind == "toggle":  # a checkbox: on, off
            self.buttons = None
            self.value, self.low, self.high = int(control.is_checked()), 0, 1
        else:  # a number input: its value and its value + 1, in turn
            self.start = float(control.input_value() or 0)
            self.value, self.low, self.high = 0, 0, 1
        self.direction = 1 if self.value < self.high else -1

    @property
    def tour(self) -> int:
        return self.high - self.low

    def _change(self) -> None:
        """Change the control by one step, the way a user does (keyboard for a slider, a click, typing)."""
        page = self.page.page
        if self.control_kind == "slider":
            page.keyboard.press("ArrowRight" if self.direction > 0 else "ArrowLeft")
        elif self.control_kind == "dropdown":  # a focused <select> gives ArrowDown to JupyterLab (cell selection)
            self.control.select_option(self.options[self.value])
        elif self.control_kind == "toggle" and self.buttons is not None:
            self.buttons.nth(self.value).click()
        elif self.control_kind == "toggle":
            self.control.click()
        else:
            number = self.start + self.value
            self.control.fill(f"{number:g}")
            self.control.press("Enter")

    def step(self) -> tuple[float, dict]:
        """One change of the control: ms from the event to the first frame that differs, and the phases
        (ms): ``to_kernel`` (event -> the message leaves by WebSocket), ``kernel`` (-> the frame arrives in
        ipympl: the network both ways and the kernel's work), ``page`` (-> the changed pixels: decoding and
        drawing the frame), ``encode`` (the part of it ipympl spends in canvas.toDataURL)."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        if not self.low <= self.value + self.direction <= self.high:
            self.direction = -self.direction
        self.value += self.direction
        page = self.page.page
        self.root.scroll_into_view_if_needed()
        if self.control_kind == "slider":
            self.control.focus()
        page.evaluate(JS_QUIET)  # the scroll to this target and the change of focus are drawn, then the change
        page.evaluate("([root, kind]) => window.__stopwatch.arm(root, kind)", [self.root.element_handle(), self.kind])
        self._change()
        try:
            page.wait_for_function("() => window.__stopwatchState.done", timeout=STEP_TIMEOUT_MS)
        except PlaywrightTimeout:
            what = self.control.evaluate("c => (c.closest('.widget-inline-hbox, .widget-hbox') || c).innerText")
            print(
                f"  {self.control_kind} {what.strip()[:40]!r}: no change on screen within {STEP_TIMEOUT_MS} ms; "
                "step not counted",
                file=sys.stderr,
            )
            latency, phases = math.nan, {}
        else:
            state = page.evaluate("() => { const { root, before, ...times } = window.__stopwatchState; return times; }")
            latency = state["t1"] - state["t0"]
            phases = {"encode": state["encode"]}
            if state["sent"] is not None and state["frame"] is not None:
                phases.update(
                    to_kernel=state["sent"] - state["t0"],
                    kernel=state["frame"] - state["sent"],
                    page=state["t1"] - state["frame"],
                )
        self.page.wait_idle()  # the kernel has finished with this step before the next change
        return latency, phases


# Resolves once the page has drawn two more frames and then found its main thread idle. Stepping two targets in
# turn scrolls between them and moves the focus from one to the other (JupyterLab then makes another cell the
# active one); without this wait, the drawing that follows (in a long lesson, the whole notebook's style and
# layout, and the images scrolled into view) ran inside the timed step: a user moving one slider does not pay
# for that on every step.
JS_QUIET = """() => new Promise((resolve) =>
    requestAnimationFrame(() => requestAnimationFrame(() => requestIdleCallback(resolve, { timeout: 2000 }))))"""


PHASES = ("to_kernel", "kernel", "page", "encode")


def measure(targets: list[Target], steps: int, warmup: int | None, phases: dict | None = None) -> list[list[float]]:
    """Step the targets in turn (so a change in the machine's load hits all alike); warm-up: one tour each.
    ``phases``: filled with the first target's phase times (name -> list of ms)."""
    if warmup is None:
        warmup = min(max(t.tour for t in targets), 12)
    times: list[list[float]] = [[] for _ in targets]
    for step in range(warmup + steps):
        for index, (target, record) in enumerate(zip(targets, times, strict=True)):
            latency, parts = target.step()
            if step >= warmup and not math.isnan(latency):
                record.append(latency)
                if index == 0 and phases is not None:
                    for name, value in parts.items():
                        phases.setdefault(name, []).append(value)
    return times


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def tour_controls(page: harness.NotebookPage, explorer, steps: int) -> dict[str, list[float]]:
    """Every control of the explorer changed ``steps`` times after one unmeasured change: ms per step, by kind.
    A control that an earlier one disabled (a layer no longer in use) or left with one value (an output cell
    slider when the output has one cell) is skipped: it cannot change."""
    by_kind: dict[str, list[float]] = {}
    for kind, control in controls(explorer):
        target = Target(page, explorer, "canvas", control, kind)
        for step in range(1 + steps):
            if not _enabled(control) or target.low == target.high:
                break
            latency, _ = target.step()
            if step and not math.isnan(latency):
                by_kind.setdefault(kind, []).append(latency)
    return by_kind


def run_lesson(page: harness.NotebookPage, args) -> list[tuple]:
    """Run one lesson (with the baselines appended) and measure each explorer against its naive twin, then
    every one of its controls."""
    page.open()
    page.page.evaluate(JS_INSTALL)
    page.run_all()
    errors = page.errors()
    if errors:
        print(f"{page.notebook.stem}: skipped, error output:\n" + "\n".join(errors), file=sys.stderr)
        return []
    rows = []
    seen: dict[str, int] = {}
    for index, explorer in enumerate(page.explorers(), 1):
        page.wait_painted(explorer)
        name = explorer_name(page, explorer, index)
        seen[name] = seen.get(name, 0) + 1
        targets = [Target(page, explorer, "canvas")]
        baseline = page.page.locator(f".cnn-lessons-baseline-{name}-{seen[name]}")
        if baseline.count():
            page.page.wait_for_function(
                "(root) => root.querySelector('.widget-output img')",
                arg=baseline.first.element_handle(),
                timeout=harness.REDRAW_TIMEOUT_MS,
            )
            targets.append(Target(page, baseline.first, "img"))
        phases: dict[str, list[float]] = {}
        times = measure(targets, args.steps, args.warmup, phases)
        label = name if seen[name] == 1 else f"{name}-{seen[name]}"
        by_kind = tour_controls(page, explorer, args.control_steps)
        rows.append((label, times[0], times[1] if len(times) > 1 else [], phases, by_kind))
    return rows


def run_floor(page: harness.NotebookPage, args) -> list[tuple[str, list[float]]]:
    page.open()
    page.page.evaluate(JS_INSTALL)
    page.run_all()
    tiny = page.explorers()[0]
    page.wait_painted(tiny)
    echo = page.page.locator(".cnn-lessons-echo").first
    phases: dict[str, list[float]] = {}
    times = measure([Target(page, tiny, "canvas"), Target(page, echo, "text")], args.steps, args.warmup, phases)
    return [("tiny ipympl line plot", times[0], phases), ("HTML echo, no figure", times[1], {})]


def verdict(p50: float, p95: float) -> str:
    return "met" if p50 <= TARGET_P50_MS and p95 <= TARGET_P95_MS else "missed"


def report(rows: list[tuple], floor: list[tuple], args, elapsed: float) -> None:
    """The tables, then the summary lines: one per explorer and kind of control, the last one for all."""
    goal = f"p50<={TARGET_P50_MS:.0f} p95<={TARGET_P95_MS:.0f} ms"
    print(
        "change -> changed pixels on screen (JupyterLab + headless Chromium); baseline: interactive_output + inline PNG"
    )
    header = (
        f"{'notebook':31s} {'explorer, main control':24s} {'n':>3s} {'p50_ms':>7s} {'p95_ms':>7s} {'max_ms':>7s} "
        f"{'base_p50':>8s} {'base_p95':>8s} {'speedup':>7s}  {goal}"
    )
    print(header + "\n" + "-" * len(header))
    summary, worst = [], [0.0, 0.0]
    for stem, name, times, base, _, _ in rows:
        p50, p95, top = median(times), percentile(times, 95), max(times, default=math.nan)
        b50, b95 = median(base), percentile(base, 95)
        speedup = b50 / p50 if times and base and p50 > 0 else math.nan
        print(
            f"{stem:31s} {name:24s} {len(times):3d} {p50:7.1f} {p95:7.1f} {top:7.1f} "
            f"{b50:8.1f} {b95:8.1f} {speedup:7.2f}  {verdict(p50, p95)}"
        )
        summary.append(
            f"browser_latency explorer={name} control=main p50_ms={p50:.1f} p95_ms={p95:.1f} "
            f"baseline_p50_ms={b50:.1f} speedup={speedup:.2f}"
        )
    for what, times, _ in floor:
        print(
            f"{'(floor)':31s} {what:24s} {len(times):3d} {median(times):7.1f} {percentile(times, 95):7.1f} "
            f"{max(times, default=math.nan):7.1f}"
        )
    print(f"\nevery control of every explorer, {args.control_steps} changes each, by kind of control")
    header = f"{'explorer':24s} {'control':9s} {'n':>3s} {'p50_ms':>7s} {'p95_ms':>7s} {'max_ms':>7s}  {goal}"
    print(header + "\n" + "-" * len(header))
    for _, name, _, _, _, by_kind in rows:
        for kind, times in by_kind.items():
            p50, p95, top = median(times), percentile(times, 95), max(times, default=math.nan)
            worst = [max(worst[0], p50), max(worst[1], p95)]
            print(f"{name:24s} {kind:9s} {len(times):3d} {p50:7.1f} {p95:7.1f} {top:7.1f}  {verdict(p50, p95)}")
            summary.append(
                f"browser_latency explorer={name} control={kind} n={len(times)} p50_ms={p50:.1f} p95_ms={p95:.1f} "
                f"max_ms={top:.1f}"
            )
    print(
        "\nwhere the time goes, p50 ms: key -> message leaves for the kernel -> frame back in ipympl (network both "
        "ways, server, kernel) -> pixels changed (encode: ipympl's canvas.toDataURL, part of page)"
    )
    print(f"{'explorer':24s} " + " ".join(f"{p:>9s}" for p in PHASES))
    for name, phases in [(row[1], row[4]) for row in rows] + [(row[0], row[2]) for row in floor if row[2]]:
        print(f"{name:24s} " + " ".join(f"{median(phases.get(p, [])):9.1f}" for p in PHASES))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    print(
        f"({args.steps} measured presses of each main control after a warm-up tour; load average {load:.1f} on "
        f"{os.cpu_count()} cores; whole run {elapsed:.0f} s)"
    )
    for line in summary:
        print(line)
    measured = any(times for row in rows for times in row[5].values())
    met = "yes" if measured and worst[0] <= TARGET_P50_MS and worst[1] <= TARGET_P95_MS else "no"  # none: not met
    print(
        f"browser_latency controls=all worst_p50_ms={worst[0]:.1f} worst_p95_ms={worst[1]:.1f} "
        f"goal_p50_ms={TARGET_P50_MS:.0f} goal_p95_ms={TARGET_P95_MS:.0f} met={met}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="measured key presses per explorer (default 20)")
    parser.add_argument("--warmup", type=int, default=None, help="unmeasured presses first (default: one tour)")
    parser.add_argument(
        "--control-steps", type=int, default=6, help="measured changes of every control of every explorer (default 6)"
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the calibration notebook")
    parser.add_argument("--only", nargs="*", help="lessons whose file name contains one of these (default: all)")
    args = parser.parse_args(argv)
    reason = harness.chromium_missing_reason()
    if reason:
        print(f"browser_latency: {reason}", file=sys.stderr)
        return 2

    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    rows, floor = [], []
    with tempfile.TemporaryDirectory(prefix="cnn-lessons-latency-") as tmp:
        work = Path(tmp)
        notebooks = work / "notebooks"
        notebooks.mkdir()
        # JupyterLab's own windowing, as students have it (the tests' "none" draws every cell of a long lesson)
        overrides = {key: value for key, value in harness.SETTINGS_OVERRIDES.items() if "tracker" not in key}
        with harness.running_lab(notebooks, work, overrides) as lab, sync_playwright() as playwright:
            browser = harness.launch_chromium(playwright)
            jobs = [
                (harness.copy_notebook(s, notebooks, extra_cells=[BASELINE_CELL]), run_lesson)
                for s in harness.lesson_notebooks()
                if not args.only or any(part in s.name for part in args.only)
            ]
            if not args.no_floor:
                jobs.append((harness.scratch_notebook(notebooks, "zz-floor.ipynb", FLOOR_CELLS), run_floor))
            for notebook, run in jobs:
                context = harness.new_context(browser)
                page = harness.NotebookPage(context, lab, notebook)
                try:
                    result = run(page, args)
                finally:
                    page.close()
                    context.close()
                    lab.shut_down_kernels()
                if run is run_floor:
                    floor = result
                else:
                    rows += [(notebook.stem, *row) for row in result]
            browser.close()

    report(rows, floor, args, time.perf_counter() - started)
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
