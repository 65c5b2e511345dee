"""Classroom capacity: N students (default 8) run lesson 03, the heaviest, at once on one JupyterHub on this machine.

The hub is the class's own (classroom/jupyterhub_config.py, started by tests/classroom/hub_harness.py on loopback,
everything in a temporary folder): every student logs in, their server starts, the `cnn-lessons hub-link` link of
the student branch clones the lessons into their home, and each student runs the lesson top to bottom in a fresh
kernel of their own server (the student copy: exercise cells fail with "not written yet", which is expected; a
failed cell is any other error). First one student runs the lesson alone (wall_one_s), then all N at once
(wall_s). A sampler reads every student's server and kernel resident memory (RSS, psutil) and CPU time four times
a second; a student's memory is the peak of server plus kernel.

``--each-lesson`` first has one student run every lesson alone: peak memory and CPU seconds per lesson, the
figures of the README's capacity table. The server runs with one math thread per kernel (OMP_NUM_THREADS=1, as
the config sets for a class sharing cores).

    .venv/bin/python benchmarks/classroom.py [--students 8] [--lesson 03] [--each-lesson]

Ends with one line: classroom students=N failed_cells=0 rss_per_student_mb=... wall_s=... wall_one_s=...
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "classroom"))

import hub_harness  # noqa: E402  (tests/classroom/hub_harness.py: the same hub and students as the classroom tests)
import psutil  # noqa: E402

MB = 1024 * 1024


class Sampler:
    """Every student's server-plus-kernel RSS (peak since the last reset) and CPU seconds, sampled in a thread."""

    def __init__(self, hub, interval_s: float = 0.25):
        self.hub, self.interval_s = hub, interval_s
        self.peak: dict[str, float] = {}
        self.cpu: dict[int, tuple[str, float]] = {}  # pid -> (student, CPU seconds when last seen)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def reset(self) -> None:
        self.peak = {}

    def cpu_seconds(self, name: str) -> float:
        return sum(seconds for student, seconds in self.cpu.values() if student == name)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, processes in hub_harness.server_processes(self.hub).items():
                rss = 0
                for process in processes:
                    try:
                        rss += process.memory_info().rss
                        times = process.cpu_times()
                    except psutil.Error:
                        continue
                    self.cpu[process.pid] = (name, times.user + times.system)
                self.peak[name] = max(self.peak.get(name, 0), rss / MB)
            self._stop.wait(self.interval_s)


def run_lesson(student, folder: str, lesson: str) -> tuple[float, int]:
    """Run one lesson in a fresh kernel: its wall time and its failed cells (errors a student copy should not show)."""
    start = time.monotonic()
    runs = student.run_notebook(f"{folder}/{lesson}")
    failed = hub_harness.unexpected_errors(runs)
    for error in failed:
        print(f"  {student.name} {lesson}: {error[:300]}")
    return time.monotonic() - start, len({error.split(":")[0] for error in failed})


def each_lesson(student, sampler: Sampler, folder: str, lessons: list[str]) -> int:
    """One student alone runs every lesson: a table of wall time, peak memory and CPU seconds; the failed cells."""
    print(f"\none student alone, every lesson\n{'lesson':40} {'wall s':>7} {'peak MB':>8} {'CPU s':>6}")
    failed_cells = 0
    for lesson in lessons:
        sampler.reset()
        cpu_before = sampler.cpu_seconds(student.name)
        wall, failed = run_lesson(student, folder, lesson)
        time.sleep(2 * sampler.interval_s)  # the sampler's last reading of the finished kernel
        cpu = sampler.cpu_seconds(student.name) - cpu_before
        print(f"{lesson:40} {wall:7.1f} {sampler.peak.get(student.name, 0):8.0f} {cpu:6.1f}")
        failed_cells += failed
    return failed_cells


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=8, help="students at once (default: %(default)s)")
    parser.add_argument("--lesson", default="03", help="the lesson's number (default: %(default)s, the heaviest)")
    parser.add_argument("--each-lesson", action="store_true", help="first, one student alone runs every lesson")
    args = parser.parse_args(argv)
    reason = hub_harness.missing_reason()
    if reason:
        print(f"classroom benchmark: {reason}", file=sys.stderr)
        return 2
    names = [f"student{i:02d}" for i in range(1, args.students + 1)]
    with tempfile.TemporaryDirectory(prefix="cnn-lessons-classroom-", ignore_cleanup_errors=True) as work:
        with hub_harness.open_class(Path(work), names) as (hub, link, students), Sampler(hub) as sampler:
            with ThreadPoolExecutor(len(names)) as pool:
                folders = list(pool.map(lambda student: student.open_link(link), students.values()))
            folder = folders[0].removeprefix("lab/tree/")
            lessons = sorted(i["name"] for i in students[names[0]].api("GET", f"contents/{folder}")["content"])
            lesson = next((name for name in lessons if name.startswith(args.lesson)), None)
            if lesson is None:
                print(f"classroom benchmark: no lesson {args.lesson} among {', '.join(lessons)}", file=sys.stderr)
                return 2
            first = students[names[0]]
            failed_cells = each_lesson(first, sampler, folder, lessons) if args.each_lesson else 0

            sampler.reset()
            wall_one, failed = run_lesson(first, folder, lesson)
            rss_one = sampler.peak.get(first.name, 0)
            failed_cells += failed
            idle = {name: sampler.peak.get(name, 0) for name in names[1:]}

            sampler.reset()
            start = time.monotonic()
            with ThreadPoolExecutor(len(names)) as pool:
                results = list(pool.map(lambda student: run_lesson(student, folder, lesson), students.values()))
            wall = time.monotonic() - start
            failed_cells += sum(failed for _, failed in results)
            peaks = [sampler.peak.get(name, 0) for name in names]
            hub_rss = psutil.Process(hub.process.pid).memory_info().rss / MB

    cores = psutil.cpu_count()
    print(f"\n{lesson}: {args.students} students at once on {cores} cores")
    print(f"  one student alone: {wall_one:.1f} s, peak {rss_one:.0f} MB (server + kernel)")
    if idle:
        print(f"  an idle student's server: {statistics.mean(idle.values()):.0f} MB")
    ideal = max(1.0, args.students / cores)
    print(f"  all at once: {wall:.1f} s, {wall / wall_one:.1f}x one alone (the {cores} cores shared: {ideal:.1f}x)")
    print(f"  each student's run: {min(w for w, _ in results):.1f} to {max(w for w, _ in results):.1f} s")
    mean = statistics.mean(peaks)
    print(f"  peak per student: {mean:.0f} MB mean, {max(peaks):.0f} MB max; all together {sum(peaks):.0f} MB")
    print(f"  the hub itself: {hub_rss:.0f} MB")
    print(
        f"classroom students={args.students} failed_cells={failed_cells} "
        f"rss_per_student_mb={statistics.mean(peaks):.0f} wall_s={wall:.1f} wall_one_s={wall_one:.1f}"
    )
    return 1 if failed_cells else 0


if __name__ == "__main__":
    sys.exit(main())
