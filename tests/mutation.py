"""Mutation testing of the math and the checkers (`make mutation`), each module against its own tests.

For each target this writes a small work folder, ``.mutation/<target>/`` (the package, the tests and the lessons
linked in, and the project's pyproject.toml with a ``[tool.mutmut]`` table saying what to mutate and which tests to
run), runs ``mutmut run`` there, reads mutmut's own verdicts back with ``mutmut results --all true``, and prints one
line:

    mutation module=ops killed=... survived=... no_tests=... timeout=... score=...%

score = (killed + timeout) / every mutant tried. Survivors are listed by name under the line (``--quiet``: not);
``.venv/bin/mutmut show NAME`` run in the target's folder shows one. torch runs in mutmut's forked workers with
``OMP_NUM_THREADS=1`` (its thread pool would deadlock after a fork otherwise). The work folders keep mutmut's
results: a plain rerun tries the mutants without a verdict (new or changed functions, or a run stopped half way),
``--clean`` forgets every verdict first (a full run), ``--again`` retries only the survivors (after new tests).

    python tests/mutation.py [arithmetic ops exercises pictures] [--max-children N] [--sample N] [--again] [--clean]

``--report`` runs nothing and prints the line for the verdicts the folder holds (after a run stopped half way).
``--sample N`` tries only N mutants per target, spread evenly over mutmut's list (for a quick estimate). With
``--sample`` or ``--again`` the line counts the mutants tried in that run.

Add a target's new tests to one of its existing test files: a new file (one more match of its globs) changes the
list of test files mutmut is given, and mutmut then forgets every verdict of that target (a full run follows,
hours for ``exercises``). New tests in an existing file only make mutmut collect their coverage.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
MUTMUT = Path(sys.executable).with_name("mutmut")
PYTEST_ARGS = ["-p", "no:cacheprovider", "-p", "no:xdist", "--hypothesis-seed=0"]  # the same examples every run

TARGETS = {  # target: (files to mutate, its own tests: globs under the project's root)
    "arithmetic": (["cnn_lessons/arithmetic.py"], ["tests/test_arithmetic.py"]),
    "ops": (["cnn_lessons/ops.py"], ["tests/test_ops.py", "tests/test_ops_*.py"]),
    "exercises": (["cnn_lessons/exercises/*.py"], ["tests/test_exercise*.py"]),
    # the functions of PICTURES in tests/test_package_shape.py, against the explorers' tests
    "pictures": (
        None,
        [
            "tests/test_pictures.py",
            "tests/test_explorers_*.py",
            "tests/test_model_explorer.py",
            "tests/test_feature_maps.py",
        ],
    ),
}


# mutmut stops a mutant's tests after 2 x timeout_multiplier x their usual time (CPU); the default, 15, lets a
# mutant that breaks the exercises' time limit spin in a never-ending student function for half an hour
TIMEOUT_MULTIPLIER = {"exercises": 2.0}


def picture_functions() -> list[tuple[str, str]]:
    """(module, function name) of every pure picture function that tests/test_package_shape.py lists."""
    sys.path.insert(0, str(ROOT / "tests"))
    pictures = importlib.import_module("test_package_shape").PICTURES
    return [(function.__module__, function.__name__) for function in pictures]


def mutant_globs(target: str) -> list[str]:
    """The mutmut names to run: every mutant of the target's files, or of the picture functions alone."""
    if target != "pictures":
        return []
    return [f"{module}.x_{name}__mutmut_*" for module, name in picture_functions()]


def prepare(target: str) -> Path:
    """The target's work folder: links to the package and the tests, and a pyproject.toml that configures mutmut."""
    files, globs = TARGETS[target]
    tests = sorted(str(path.relative_to(ROOT)) for glob in globs for path in ROOT.glob(glob))
    if files is None:
        files = sorted({module.replace(".", "/") + ".py" for module, _ in picture_functions()})
    folder = WORK / target
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted({path for pattern in files for path in ROOT.glob(pattern)}):
        # a file copied into mutants/ before it was one to mutate is newer than its source, so mutmut would take it
        # for mutated and never mutate it: without mutmut's .meta beside it, it goes, and mutmut mutates it afresh
        copy = folder / "mutants" / path.relative_to(ROOT)
        if copy.exists() and not copy.with_name(copy.name + ".meta").exists():
            copy.unlink()
            # and mutmut learns which tests call its functions anew (else it finds none: "no tests")
            (folder / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    for name in ("cnn_lessons", "tests", "notebooks"):  # tests read the stored lessons (their examples, counts)
        link = folder / name
        if not link.is_symlink():
            link.symlink_to(ROOT / name, target_is_directory=True)
    text = (ROOT / "pyproject.toml").read_text()
    text = re.sub(r"(?ms)^\[tool\.mutmut\].*?(?=^\[|\Z)", "", text)  # a table of the project's own is replaced
    settings = {
        "source_paths": ["cnn_lessons"],
        "only_mutate": files,
        "pytest_add_cli_args": PYTEST_ARGS,
        "pytest_add_cli_args_test_selection": tests,
        "also_copy": ["notebooks"],  # beside the tests mutmut copies into mutants/
        "use_git_change_detection": False,
    }
    if target in TIMEOUT_MULTIPLIER:
        settings["timeout_multiplier"] = TIMEOUT_MULTIPLIER[target]
    lines = [f"{key} = {value!r}".replace("'", '"').replace("False", "false") for key, value in settings.items()]
    (folder / "pyproject.toml").write_text(text + "\n[tool.mutmut]\n" + "\n".join(lines) + "\n")
    tomllib.loads((folder / "pyproject.toml").read_text())  # fails here, not inside mutmut, if the table is wrong
    return folder


def results(folder: Path, globs: list[str]) -> dict[str, str]:
    """mutmut's verdict per mutant name (``mutmut results --all true``), for the names matching ``globs``."""
    out = subprocess.run([MUTMUT, "results", "--all", "true"], cwd=folder, capture_output=True, text=True, check=True)
    verdicts = dict(line.strip().rsplit(": ", 1) for line in out.stdout.splitlines() if ": " in line)
    if globs:
        patterns = [re.compile(re.escape(glob).replace(r"\*", ".*") + "$") for glob in globs]
        verdicts = {name: v for name, v in verdicts.items() if any(p.match(name) for p in patterns)}
    return verdicts


def run(
    target: str, max_children: int, sample: int | None, quiet: bool, again: bool = False, report: bool = False
) -> str:
    """Run mutmut on one target and return its summary line (``report``: only read the verdicts it has)."""
    folder = prepare(target)
    globs = mutant_globs(target)
    if report:
        return summary(target, results(folder, globs), quiet)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    command = [MUTMUT, "run", "--max-children", str(max_children)]
    if sample or again:
        if not (folder / "mutants").exists():  # mutmut lists its mutants once it has made them
            subprocess.run([*command, "zzz-none"], cwd=folder, env=env, capture_output=True)
        verdicts = results(folder, globs)
        names = sorted(verdicts)
        if again:  # the mutants that outlived the tests last time, tried against the tests as they are now
            names = [name for name in names if verdicts[name] in ("survived", "no tests", "suspicious")]
        globs = names[:: max(1, len(names) // sample)][:sample] if sample else names
    elif globs:  # mutmut retries every mutant it is given by name: given the untried ones only, it tries those
        verdicts = results(folder, globs) if (folder / "mutants").exists() else {}
        untried = sorted(name for name, verdict in verdicts.items() if verdict == "not checked")
        globs = untried if verdicts else globs
        if verdicts and not untried:
            return summary(target, verdicts, quiet)
    log = folder / "mutmut.log"
    with log.open("w") as output:
        subprocess.run([*command, *globs], cwd=folder, env=env, stdout=output, stderr=subprocess.STDOUT, check=True)
    tried = globs if sample or again else mutant_globs(target)  # a plain run: the line covers every mutant
    return summary(target, results(folder, tried), quiet)


def summary(target: str, verdicts: dict[str, str], quiet: bool) -> str:
    """The summary line over the mutants with a verdict (survivors printed under it unless ``quiet``)."""
    count = {kind: sum(v == kind for v in verdicts.values()) for kind in ("killed", "survived", "no tests", "timeout")}
    tried = sum(count.values()) + sum(v == "suspicious" for v in verdicts.values())
    score = 100 * (count["killed"] + count["timeout"]) / max(tried, 1)
    untried = sum(v == "not checked" for v in verdicts.values())
    line = (
        f"mutation module={target} killed={count['killed']} survived={count['survived']} "
        f"no_tests={count['no tests']} timeout={count['timeout']} score={score:.1f}%"
    ) + (f" (not yet tried: {untried})" if untried else "")
    if not quiet:
        for name, verdict in sorted(verdicts.items()):
            if verdict not in ("killed", "timeout", "not checked"):
                print(f"    {verdict}: {name}")
    return line


def main(argv: list[str] | None = None) -> int:
    """Mutation-test the chosen targets (all by default), one summary line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help=f"some of {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--max-children", type=int, default=1, help="mutmut's workers (default 1)")
    parser.add_argument("--sample", type=int, help="try only this many mutants per target")
    parser.add_argument("--quiet", action="store_true", help="print the summary lines only")
    parser.add_argument("--clean", action="store_true", help="forget earlier results first")
    parser.add_argument("--again", action="store_true", help="try again only the mutants that survived last time")
    parser.add_argument("--report", action="store_true", help="run nothing: the summary of the verdicts so far")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.targets) - set(TARGETS))
    if unknown:
        parser.error(f"no target {unknown[0]!r}; the targets are {', '.join(TARGETS)}")
    lines = []
    for target in args.targets or list(TARGETS):
        if args.clean:
            shutil.rmtree(WORK / target / "mutants", ignore_errors=True)
        lines.append(run(target, args.max_children, args.sample, args.quiet, args.again, args.report))
        print(lines[-1], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
