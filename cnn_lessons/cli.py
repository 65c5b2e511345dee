"""The ``cnn-lessons`` command: start the lessons and prepare a class.

- ``cnn-lessons lab``: JupyterLab on the lessons, bound to 127.0.0.1 with token authentication on, with the lessons'
  JupyterLab settings (``jupyter-config/``).
- ``cnn-lessons student-copy OUT``: the lessons with solutions replaced by starters and outputs cleared
  (``--branch student``: committed to that branch of the current git repository instead, working tree untouched).
- ``cnn-lessons hub-link HUB_URL [--repo URL] [--branch B]``: the nbgitpuller link that opens the lessons on a
  JupyterHub (``--repo`` defaults to the clone's ``origin``).
- ``cnn-lessons doctor [--hub]``: checks what the lessons need (``--hub``: and a hub's nbgitpuller) and says how to
  fix each problem.
- ``cnn-lessons figures [OUT]``: draws every figure of ``assets/figures`` again (``--check``: compares instead).
- ``cnn-lessons animations [OUT]``: every explorer's animation, ``assets/animations`` (``--check``: compares).
- ``cnn-lessons slides [OUT]``: each lesson as a reveal.js deck; ``mark-slides``: the lessons' slide marks.

Mistakes (a missing folder, an unwritable OUT, a malformed notebook) end with a message and exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

LESSONS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
FIGURES_DIR = LESSONS_DIR.parent / "assets" / "figures"
ANIMATIONS_DIR = LESSONS_DIR.parent / "assets" / "animations"
SLIDES_DIR = LESSONS_DIR.parent / "build" / "slides"
LAB_CONFIG_DIR = LESSONS_DIR.parent / "jupyter-config"
"""JupyterLab settings for the lessons (its README says which and why), first on ``JUPYTER_CONFIG_PATH``."""


def lab_command(notebook_dir: Path, ip: str = "127.0.0.1", port: int | None = None, browser: bool = True):
    """The argv that starts JupyterLab on ``notebook_dir`` (token authentication stays on)."""
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent)) or shutil.which("jupyter")
    if jupyter is None:
        raise SystemExit("cnn-lessons: 'jupyter' was not found next to this Python; run 'make lab' to install it")
    argv = [jupyter, "lab", f"--ServerApp.root_dir={notebook_dir}", f"--ServerApp.ip={ip}"]
    if port is not None:
        argv += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    if not browser:
        argv.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # containers and CI machines often run as root; Jupyter refuses it otherwise
    return argv


def lab_environment(environ=None) -> dict[str, str]:
    """``environ`` (default: this process's) with :data:`LAB_CONFIG_DIR` first on ``JUPYTER_CONFIG_PATH``."""
    environ = dict(os.environ if environ is None else environ)
    paths = [str(LAB_CONFIG_DIR), *filter(None, environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep))]
    environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(dict.fromkeys(paths))
    return environ


def _lab(args: argparse.Namespace) -> int:
    notebook_dir = Path(args.notebook_dir).resolve()
    if not notebook_dir.is_dir():
        raise UsageError(f"no folder {notebook_dir}; pass --notebook-dir with the lessons' folder")
    argv = lab_command(notebook_dir, args.ip, args.port, browser=not args.no_browser)
    os.execve(argv[0], argv, lab_environment())
    return 0  # not reached


class UsageError(Exception):
    """A mistake on the command line or in the files it names; printed as is, exit status 2."""


def _grading():
    """cnn_lessons.grading, or a UsageError saying how to install nbgrader, which the student copy builds on."""
    try:
        from cnn_lessons import grading  # imported here: nbgrader is for teachers (requirements/grading.txt) only
    except ImportError as error:
        raise UsageError(
            f"the student copy is made with nbgrader's preprocessors, and this environment cannot import {error.name}; "
            "install it: .venv/bin/python -m pip install -c requirements/constraints.txt -r requirements/grading.txt"
        ) from None
    return grading


def _student_text(notebook: dict, name: str) -> str:
    """A lesson's student copy as JSON text (nbgrader generate_assignment's); a malformed lesson is a UsageError."""
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise UsageError(f"{name} is not a Jupyter notebook (no list of cells)")
    grading = _grading()
    try:
        return grading.student_notebook(notebook, name)
    except grading.GradingError as error:
        raise UsageError(str(error)) from None


def strip_solutions(notebook: dict, name: str = "notebook") -> dict:
    """The student version of a notebook (nbgrader's): solution blocks become starters, every output is cleared."""
    return json.loads(_student_text(notebook, name))  # as the student copy's file holds it


def _student_copy(args: argparse.Namespace) -> int:
    source_dir, out = Path(args.notebook_dir), Path(args.out)
    lessons = sorted(source_dir.glob("*.ipynb"))
    if not lessons:
        raise UsageError(f"no lessons (*.ipynb) in {source_dir}; pass --notebook-dir with the lessons' folder")
    clashes = [out / lesson.name for lesson in lessons if (out / lesson.name).exists()]
    if clashes and not args.force:
        raise UsageError(f"{out} already has {', '.join(p.name for p in clashes)}; pass --force to overwrite them")
    copies = {}
    for lesson in lessons:
        try:
            notebook = json.loads(lesson.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise UsageError(f"{lesson} is not a readable notebook: {error}") from None
        copies[lesson.name] = _student_text(notebook, lesson.name)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for filename, text in copies.items():
            (out / filename).write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write the student copy to {out}: {error.strerror or error}") from None
    print(f"wrote {len(copies)} lessons without solutions to {out}")
    return 0


def hub_link(hub_url: str, repo: str, branch: str = "main", folder: str = "notebooks") -> str:
    """nbgitpuller's link: each student who opens it gets (or updates) a clone of ``repo`` and lands in JupyterLab."""
    parsed = urllib.parse.urlparse(hub_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UsageError(f"HUB_URL must be an http(s) address like https://hub.example.edu, got {hub_url!r}")
    if not repo:
        raise UsageError("--repo is needed: the git URL of the lessons the hub should clone")
    name = repo.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1]
    # targetpath names the clone's folder: nbgitpuller's own default keeps a trailing .git, which urlpath would miss
    query = {"repo": repo, "targetpath": name, "urlpath": f"lab/tree/{name}/{folder}", "branch": branch}
    query = urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
    return f"{hub_url.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def _hub_link(args: argparse.Namespace) -> int:
    print(hub_link(args.hub_url, args.repo if args.repo is not None else origin_url(), args.branch))
    return 0


def _git(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> str:
    """Run git; its error message becomes a UsageError."""
    try:
        done = subprocess.run(["git", *args], input=stdin, capture_output=True, cwd=cwd, check=False)
    except FileNotFoundError:
        raise UsageError("git is not installed; install it (e.g. apt-get install git) and run this again") from None
    if done.returncode:
        raise UsageError(f"git {args[0]} failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout.decode().strip()


def origin_url(cwd: Path | None = None) -> str:
    """The URL of the ``origin`` remote of the git clone around ``cwd``: where a hub clones the lessons from."""
    _git_toplevel(cwd)
    remotes = _git("remote", cwd=cwd).split()
    if "origin" not in remotes:
        raise UsageError(
            "this clone has no 'origin' remote; pass --repo with the git URL the hub should clone "
            "(or add one: git remote add origin https://...)"
        )
    url = _git("remote", "get-url", "origin", cwd=cwd)
    if re.match(r"^[\w.-]+@[\w.-]+:", url):
        raise UsageError(
            f"origin is an SSH address ({url}), which a hub cannot clone without keys; "
            "pass --repo with its https:// address"
        )
    return url


def _git_toplevel(cwd: Path | None = None) -> Path:
    try:
        return Path(_git("rev-parse", "--show-toplevel", cwd=cwd))
    except UsageError:
        where = Path(cwd or Path.cwd()).resolve()
        raise UsageError(f"{where} is not inside a git clone; run this from your clone of the lessons") from None


def commit_student_branch(folder: Path, branch: str, cwd: Path | None = None) -> str:
    """Commit every file of ``folder`` as ``notebooks/`` on ``branch`` (its previous tip the parent); the commit's id.

    Only git's object database and the branch's ref change: the working tree, the index and HEAD stay as they are.
    """
    _git_toplevel(cwd)
    if branch.startswith("-") or subprocess.run(["git", "check-ref-format", f"refs/heads/{branch}"]).returncode:
        raise UsageError(f"{branch!r} is not a usable git branch name; try --branch student")
    if _has_symbolic_head(cwd) and _git("symbolic-ref", "--short", "HEAD", cwd=cwd) == branch:
        raise UsageError(f"{branch} is the branch checked out here; name another one, e.g. --branch student")
    entries = []
    for path in sorted(p for p in Path(folder).iterdir() if p.is_file()):
        blob = _git("hash-object", "-w", "--stdin", stdin=path.read_bytes(), cwd=cwd)
        entries.append(f"100644 blob {blob}\t{path.name}\n")
    notebooks = _git("mktree", stdin="".join(entries).encode(), cwd=cwd)
    root = _git("mktree", stdin=f"040000 tree {notebooks}\tnotebooks\n".encode(), cwd=cwd)
    ref = f"refs/heads/{branch}"
    previous = _git("for-each-ref", "--format=%(objectname)", ref, cwd=cwd)
    if previous and _git("rev-parse", f"{previous}^{{tree}}", cwd=cwd) == root:
        return previous  # nothing changed: no empty commit
    source = _git("rev-parse", "--short", "HEAD", cwd=cwd) if _has_commits(cwd) else "an unborn branch"
    message = f"Student copy of the lessons (cnn-lessons student-copy --branch {branch}, from {source})"
    commit = _git("commit-tree", root, *(["-p", previous] if previous else []), "-m", message, cwd=cwd)
    _git("update-ref", ref, commit, previous or "0" * 40, cwd=cwd)
    return commit


def _has_symbolic_head(cwd: Path | None) -> bool:
    return subprocess.run(["git", "symbolic-ref", "-q", "HEAD"], capture_output=True, cwd=cwd).returncode == 0


def _has_commits(cwd: Path | None) -> bool:
    return subprocess.run(["git", "rev-parse", "-q", "--verify", "HEAD"], capture_output=True, cwd=cwd).returncode == 0


def _student_copy_command(args: argparse.Namespace) -> int:
    if args.out is None and args.branch is None:
        raise UsageError("name where the student copy goes: a folder OUT, or --branch student (a git branch)")
    if args.out is not None:
        _student_copy(args)
    if args.branch is None:
        return 0
    _git_toplevel()
    with tempfile.TemporaryDirectory(prefix="cnn-lessons-student-") as folder:
        quiet = argparse.Namespace(**{**vars(args), "out": folder, "force": True})
        with contextlib.redirect_stdout(io.StringIO()):
            _student_copy(quiet)  # the same student copy as a folder gets, written to a temporary one
        count = len(list(Path(folder).iterdir()))
        commit = commit_student_branch(Path(folder), args.branch)
    print(f"committed {count} lessons without solutions to branch {args.branch} ({commit[:12]}); publish it with")
    print(f"  git push origin {args.branch}")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from cnn_lessons import doctor  # imported here: the other commands start without torch and Jupyter

    problems = doctor.run_checks(print, hub=args.hub)
    return 1 if problems else 0


def _figures(args: argparse.Namespace) -> int:
    from cnn_lessons import figures  # imported here: the other commands start without torch and matplotlib

    out = Path(args.out)
    if args.check:
        if not out.is_dir():
            raise UsageError(f"no folder {out} to check; write the figures with 'cnn-lessons figures {out}'")
        found = figures.compare_figures(out)
        problems = {"differs from a fresh drawing": found.differ, "missing": found.missing}
        problems["not drawn by cnn-lessons figures"] = found.extra
        for problem, names in problems.items():
            for name in names:
                print(f"{out / name}: {problem}")
        if found.ok:
            print(f"all {len(found.same)} figures in {out} are what the code draws")
            return 0
        print(f"{len(found.same)} of {len(figures.FIGURES)} figures in {out} are what the code draws; to draw")
        print(f"them again: cnn-lessons figures {out} --force (it leaves other files alone)")
        return 1
    try:
        written = figures.save_figures(out, force=args.force)
    except figures.FiguresExist as error:
        names = ", ".join(path.name for path in error.paths[:3])
        if len(error.paths) > 3:
            names += f" and {len(error.paths) - 3} more of the figures"
        raise UsageError(f"{out} already has {names}; pass --force to overwrite them") from None
    except OSError as error:
        raise UsageError(f"cannot write the figures to {out}: {error.strerror or error}") from None
    print(f"wrote {len(written)} figures to {out}")
    return 0


def _animations(args: argparse.Namespace) -> int:
    from cnn_lessons import animations  # imported here: the other commands start without torch and matplotlib

    out, names = Path(args.out), args.only or None
    unknown = sorted(set(names or ()) - set(animations.ANIMATIONS))
    if unknown:
        raise UsageError(f"no animation {', '.join(unknown)}; the animations are {', '.join(animations.ANIMATIONS)}")
    if args.check:
        if not out.is_dir():
            raise UsageError(f"no folder {out} to check; write the animations with 'cnn-lessons animations {out}'")
        found = animations.compare_animations(out, names)
        for problem, files in (("differs from a fresh drawing", found.differ), ("missing", found.missing)):
            print("".join(f"{out / file}: {problem}\n" for file in files), end="")
        print("".join(f"{out / file}: not drawn by cnn-lessons animations\n" for file in found.extra), end="")
        total = len(found.same) + len(found.differ) + len(found.missing)
        print(f"{len(found.same)} of {total} animations in {out} are what the code draws")
        if not found.ok:
            print(f"to draw them again: cnn-lessons animations {out} --force (it leaves other files alone)")
        return 0 if found.ok else 1
    try:
        written = animations.save_animations(out, force=args.force, names=names)
    except animations.FiguresExist as error:
        raise UsageError(f"{out} already has {len(error.paths)} of the animations; pass --force to overwrite") from None
    except OSError as error:
        raise UsageError(f"cannot write the animations to {out}: {error.strerror or error}") from None
    print(f"wrote {len(written)} animations to {out}")
    return 0


def _lesson_notebooks(folder: Path, only: list[str] | None) -> list[Path]:
    """The lessons (``NN-name.ipynb``) in ``folder``, or those whose names start with one of ``only`` (``02``)."""
    lessons = sorted(folder.glob("[0-9][0-9]-*.ipynb"))
    chosen = [lesson for lesson in lessons if not only or lesson.name.startswith(tuple(only))]
    if not chosen:
        names = ", ".join(lesson.stem for lesson in lessons) or "none"
        raise UsageError(f"no lesson in {folder} matches {only or 'NN-*.ipynb'}; the lessons are {names}")
    return chosen


def _slides(args: argparse.Namespace) -> int:
    from cnn_lessons import slides  # imported here: the other commands start without Jupyter's libraries

    lessons = _lesson_notebooks(Path(args.notebook_dir), args.only)
    urls = slides.library_urls(args.out)
    try:
        decks = slides.build_decks(lessons, args.out, urls)
    except (OSError, RuntimeError) as error:
        raise UsageError(str(error)) from None
    where = "beside them (they open offline)" if urls else "from the web (run 'make slides' to fetch them)"
    print(f"wrote {len(decks)} decks to {args.out}; reveal.js, require.js and jQuery {where}")
    return 0


def _mark_slides(args: argparse.Namespace) -> int:
    from cnn_lessons import slides  # imported here: the other commands start without Jupyter's libraries

    try:
        changed = slides.mark_lessons(args.notebook_dir, check=args.check)
    except FileNotFoundError as error:
        raise UsageError(str(error)) from None
    for path in changed:
        print(f"{path}: {'lacks its slide marks' if args.check else 'marked'}")
    if args.check:
        print("every lesson carries its slide marks" if not changed else "to mark them: cnn-lessons mark-slides")
        return 1 if changed else 0
    print(f"marked {len(changed)} files" if changed else "every lesson already carried its slide marks")
    return 0


def _add_class_commands(commands) -> None:
    """The commands for presenting a class: animations, slides, mark-slides."""
    animate = commands.add_parser("animations", help="draw every explorer's animation as NAME.gif in OUT")
    animate.add_argument("out", nargs="?", metavar="OUT", default=str(ANIMATIONS_DIR), help="(default: %(default)s)")
    animate.add_argument("--only", nargs="+", metavar="NAME", help="just these animations")
    what = animate.add_mutually_exclusive_group()
    what.add_argument("--force", action="store_true", help="overwrite animations already in OUT")
    what.add_argument("--check", action="store_true", help="write nothing; compare OUT with a fresh drawing")
    animate.set_defaults(run=_animations)

    deck = commands.add_parser("slides", help="write each lesson as a reveal.js deck, OUT/NN-name.slides.html")
    deck.add_argument("out", nargs="?", metavar="OUT", default=str(SLIDES_DIR), help="(default: %(default)s)")
    deck.add_argument("--notebook-dir", default=str(LESSONS_DIR), help="folder of lessons (default: %(default)s)")
    deck.add_argument("--only", nargs="+", metavar="NN", help="just these lessons, e.g. --only 01 02")
    deck.set_defaults(run=_slides)

    mark = commands.add_parser("mark-slides", help="write the slide marks into the lessons (NN-name.py and .ipynb)")
    mark.add_argument("--notebook-dir", default=str(LESSONS_DIR), help="folder of lessons (default: %(default)s)")
    mark.add_argument("--check", action="store_true", help="write nothing; exit status 1 if a lesson lacks its marks")
    mark.set_defaults(run=_mark_slides)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnn-lessons", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    lab = commands.add_parser("lab", help="start JupyterLab on the lessons (127.0.0.1, token on)")
    lab.add_argument("--notebook-dir", default=str(LESSONS_DIR), help="folder of lessons (default: %(default)s)")
    lab.add_argument("--ip", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    lab.add_argument("--port", type=int, default=None, help="port (default: Jupyter's, 8888 or the next free)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    lab.set_defaults(run=_lab)

    copy = commands.add_parser("student-copy", help="write the lessons without solutions and outputs to OUT")
    copy.add_argument("out", nargs="?", help="folder for the student copy")
    copy.add_argument(
        "--branch",
        help="commit the student copy (as notebooks/) to this branch of the current git clone; working tree untouched",
    )
    copy.add_argument("--notebook-dir", default=str(LESSONS_DIR), help="folder of lessons (default: %(default)s)")
    copy.add_argument("--force", action="store_true", help="overwrite lessons already in OUT")
    copy.set_defaults(run=_student_copy_command)

    hub = commands.add_parser("hub-link", help="print the nbgitpuller link that opens the lessons on a JupyterHub")
    hub.add_argument("hub_url", help="the hub's address, e.g. https://hub.example.edu")
    hub.add_argument("--repo", help="git URL of the lessons the hub should clone (default: this clone's origin)")
    hub.add_argument("--branch", default="main", help="branch to clone (default: %(default)s)")
    hub.set_defaults(run=_hub_link)

    doctor = commands.add_parser("doctor", help="check what the lessons need; exit status 1 on a problem")
    doctor.add_argument("--hub", action="store_true", help="also check what a JupyterHub's user image needs")
    doctor.set_defaults(run=_doctor)

    draw = commands.add_parser("figures", help="draw every lesson figure as NAME.png in OUT (the repo's assets)")
    draw.add_argument(
        "out", nargs="?", metavar="OUT", default=str(FIGURES_DIR), help="folder for the PNGs (default: %(default)s)"
    )
    what = draw.add_mutually_exclusive_group()
    what.add_argument("--force", action="store_true", help="overwrite figures already in OUT")
    what.add_argument(
        "--check",
        action="store_true",
        help="write nothing; compare OUT with a fresh drawing (exit status 1 if not equal)",
    )
    draw.set_defaults(run=_figures)
    _add_class_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as error:
        print(f"cnn-lessons {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
