"""The cnn-lessons command: student copies, hub links and the doctor, including their error messages."""

import importlib
import importlib.metadata
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from cnn_lessons import doctor, exercises, ops
from cnn_lessons.cli import LESSONS_DIR, UsageError, hub_link, main, strip_solutions

LESSONS = sorted(LESSONS_DIR.glob("*.ipynb"))


def one_cell_lesson(source: str, tag: str) -> dict:
    """A notebook of one code cell with one tag, as a lesson file holds it."""
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source, metadata={"tags": [tag]})])


def test_student_copy_strips_solutions_and_outputs(tmp_path, capsys):
    assert main(["student-copy", str(tmp_path)]) == 0
    assert f"wrote {len(LESSONS)} lessons" in capsys.readouterr().out
    for lesson in LESSONS:
        copy = json.loads((tmp_path / lesson.name).read_text())
        for cell in copy["cells"]:
            assert "### BEGIN SOLUTION" not in "".join(cell["source"])
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None
        solutions = [c for c in copy["cells"] if "solution" in c["metadata"].get("tags", [])]
        assert len(solutions) >= 3, f"{lesson.name} has fewer than three exercises"
        starters = ('raise NotImplementedError("your code here")', " = ...  # your answer here")
        assert all(any(words in "".join(c["source"]) for words in starters) for c in solutions)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_each_exercise_of_a_student_copy_says_it_is_not_written_yet(lesson):
    """The exercise cells alone (not the lesson), run in order: every checker says "not written yet", no NameError."""
    notebook = strip_solutions(json.loads(lesson.read_text()), lesson.name)
    namespace = {"exercises": exercises, "ops": ops, "torch": torch, "F": torch.nn.functional}
    checked = 0
    for cell in notebook["cells"]:
        tags = set(cell["metadata"].get("tags", []))
        if "solution" in tags:
            exec("".join(cell["source"]), namespace)  # a function's starter defines it; a value's assigns `...`
        elif "exercise" in tags:
            with pytest.raises(exercises.ExerciseFailed, match="not written yet"):
                exec("".join(cell["source"]), namespace)
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("### BEGIN SOLUTION\nanswer = [[4, 3], [2, 1]]\n### END SOLUTION", "answer = ...  # your answer here"),
        ("### BEGIN SOLUTION\ntotal: int = 2 * 3\n### END SOLUTION", "total = ...  # your answer here"),
        ("  ### BEGIN SOLUTION\n  return 1\n  ### END SOLUTION", '  raise NotImplementedError("your code here")'),
        ("### BEGIN SOLUTION\nprint(2 * 3)\n### END SOLUTION", 'raise NotImplementedError("your code here")'),
        ("### BEGIN SOLUTION\na, b = 1, 2\n### END SOLUTION", 'raise NotImplementedError("your code here")'),
    ],
)
def test_a_value_exercise_starts_as_an_ellipsis(block, expected):
    notebook = one_cell_lesson(block, "solution")
    assert "".join(strip_solutions(notebook)["cells"][0]["source"]) == expected


def test_student_copy_without_nbgrader_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    import cnn_lessons  # imported here: its `grading` attribute is taken away below, as if never imported

    for module in [name for name in sys.modules if name.split(".")[0] == "nbgrader"] + ["nbgrader"]:
        monkeypatch.setitem(sys.modules, module, None)  # importing nbgrader (or any of its modules) now fails
    monkeypatch.delitem(sys.modules, "cnn_lessons.grading")
    monkeypatch.delattr(cnn_lessons, "grading")
    assert main(["student-copy", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "made with nbgrader's preprocessors, and this environment cannot import nbgrader" in error
    assert "install it: .venv/bin/python -m pip install -c requirements/constraints.txt -r requirements/gr" in error
    assert not list(tmp_path.iterdir())


def test_student_copy_never_overwrites_without_force(tmp_path, capsys):
    (tmp_path / LESSONS[0].name).write_text("the teacher's notes")
    assert main(["student-copy", str(tmp_path)]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert (tmp_path / LESSONS[0].name).read_text() == "the teacher's notes"
    assert main(["student-copy", str(tmp_path), "--force"]) == 0


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        (lambda d: d.joinpath("bad.ipynb").write_text("{not json"), "is not a readable notebook"),
        (lambda d: d.joinpath("bad.ipynb").write_text('{"cells": 3}'), "is not a Jupyter notebook"),
        (lambda d: None, "no lessons (*.ipynb)"),
    ],
)
def test_student_copy_explains_bad_input(tmp_path, capsys, setup, words):
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    setup(lessons)
    assert main(["student-copy", str(tmp_path / "out"), "--notebook-dir", str(lessons)]) == 2
    assert words in capsys.readouterr().err


def test_student_copy_explains_an_unwritable_out(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["student-copy", str(blocker / "out")]) == 2
    assert "cannot write the student copy" in capsys.readouterr().err


def test_solution_without_markers_is_refused():
    notebook = one_cell_lesson("x = 1", "solution")
    with pytest.raises(UsageError, match="lesson.ipynb, cell 0: tagged 'solution' but has no ### BEGIN/END SOLUTION"):
        strip_solutions(notebook, "lesson.ipynb")


def test_hub_link(capsys):
    assert (
        main(["hub-link", "https://hub.example.edu/", "--repo", "https://git.example.edu/class/cnn-lessons.git"]) == 0
    )
    link = capsys.readouterr().out.strip()
    assert link.startswith("https://hub.example.edu/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgit.example.edu")
    assert "urlpath=lab%2Ftree%2Fcnn-lessons%2Fnotebooks" in link and link.endswith("branch=main")
    assert "targetpath=cnn-lessons&" in link  # nbgitpuller's own default folder would be cnn-lessons.git
    assert hub_link("https://h.edu", "https://x.org/a/b", "dev").endswith(
        "urlpath=lab%2Ftree%2Fb%2Fnotebooks&branch=dev"
    )
    assert main(["hub-link", "hub.example.edu", "--repo", "https://x.org/r.git"]) == 2
    assert "must be an http(s) address" in capsys.readouterr().err


def test_doctor_passes_in_the_project_environment(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "all good" in out and "\u2713 widget front-end extensions" in out


def test_doctor_reports_a_missing_ipympl_with_its_fix(monkeypatch, capsys):
    real_version, real_import = importlib.metadata.version, importlib.import_module

    def version(name):
        if name == "ipympl":
            raise importlib.metadata.PackageNotFoundError(name)
        return real_version(name)

    def import_module(name, *args):
        if name.startswith("ipympl"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args)

    monkeypatch.setattr(doctor.metadata, "version", version)
    monkeypatch.setattr(doctor.importlib, "import_module", import_module)
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert (
        "\u2717 pinned packages: ipympl is not installed (the lessons need ipympl==0.10.0). Fix: run `make lab`" in out
    )
    assert "ipympl is not installed: explorers cannot draw" in out


def test_doctor_reports_a_missing_frontend_extension(monkeypatch, capsys):
    monkeypatch.setattr(doctor, "_labextension_version", lambda package: None)
    assert main(["doctor"]) == 1
    assert "jupyter-matplotlib (from ipympl) is missing" in capsys.readouterr().out


@pytest.fixture
def nbgitpuller(monkeypatch, tmp_path):
    """Fake what `make classroom` installs (make test's .venv has no nbgitpuller): a version, and a config folder."""
    state = {"version": doctor.pins(doctor.CLASSROOM_PINS)["nbgitpuller"], "enabled": True}
    real_version = importlib.metadata.version

    def version(name):
        if name != "nbgitpuller":
            return real_version(name)
        if state["version"] is None:
            raise importlib.metadata.PackageNotFoundError(name)
        return state["version"]

    def config_path():
        folder = tmp_path / "jupyter_server_config.d"
        folder.mkdir(exist_ok=True)
        extensions = {"nbgitpuller": True} if state["enabled"] else {}
        (folder / "nbgitpuller.json").write_text(json.dumps({"ServerApp": {"jpserver_extensions": extensions}}))
        return [str(tmp_path)]

    monkeypatch.setattr(doctor.metadata, "version", version)
    monkeypatch.setattr("jupyter_core.paths.jupyter_config_path", config_path)
    return state


def test_doctor_hub_checks_nbgitpuller(nbgitpuller, capsys):
    assert doctor.pins(doctor.CLASSROOM_PINS)["nbgitpuller"] == "1.3.0"
    assert main(["doctor", "--hub"]) == 0
    assert "\u2713 hub (nbgitpuller)" in capsys.readouterr().out
    assert main(["doctor"]) == 0  # without --hub the hub is not checked
    assert "nbgitpuller" not in capsys.readouterr().out


def test_doctor_hub_reports_nbgitpuller_missing_disabled_or_another_version(nbgitpuller, capsys):
    fix = "add `pip install -c requirements/constraints.txt -r requirements/classroom.txt` to the hub's user image"
    nbgitpuller["version"] = None
    assert doctor.check_hub() == [
        f"nbgitpuller is not installed: the hub-link links cannot pull the lessons. Fix: {fix}"
    ]
    assert main(["doctor", "--hub"]) == 1
    assert "\u2717 hub (nbgitpuller): nbgitpuller is not installed" in capsys.readouterr().out
    nbgitpuller["version"], nbgitpuller["enabled"] = "1.3.0", False
    assert doctor.check_hub() == [
        "nbgitpuller is installed but not enabled in Jupyter Server: its /git-pull links answer 404. "
        "Fix: jupyter server extension enable --sys-prefix nbgitpuller"
    ]
    nbgitpuller["version"], nbgitpuller["enabled"] = "1.2.2", True
    assert doctor.check_hub() == [f"nbgitpuller 1.2.2 is installed, the lessons were tested with 1.3.0. Fix: {fix}"]


def test_notebooks_dir_is_the_repository_one():
    assert LESSONS_DIR == Path(__file__).resolve().parent.parent / "notebooks"


# --- the student copy as a git branch, and hub-link's default --repo ---------------------------------------------


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def clone(tmp_path, monkeypatch):
    """A git clone with one commit, a staged change and an edited file; the current folder."""
    for variable in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{variable}_NAME", "Teacher")
        monkeypatch.setenv(f"GIT_{variable}_EMAIL", "teacher@example.edu")
    repo = tmp_path / "clone"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "notes.txt").write_text("first\n")
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-q", "-m", "first")
    (repo / "notes.txt").write_text("edited, not committed\n")
    (repo / "staged.txt").write_text("staged\n")
    git(repo, "add", "staged.txt")
    monkeypatch.chdir(repo)
    return repo


def test_student_copy_to_a_branch_leaves_the_working_tree_alone(clone, capsys):
    before = (git(clone, "rev-parse", "HEAD"), git(clone, "status", "--porcelain"), git(clone, "diff", "--cached"))
    assert main(["student-copy", "--branch", "student"]) == 0
    assert "to branch student" in capsys.readouterr().out
    assert (
        git(clone, "rev-parse", "HEAD"),
        git(clone, "status", "--porcelain"),
        git(clone, "diff", "--cached"),
    ) == before
    assert git(clone, "ls-tree", "--name-only", "student", "notebooks/").splitlines() == [
        f"notebooks/{lesson.name}" for lesson in LESSONS
    ]
    for lesson in LESSONS:
        committed = json.loads(git(clone, "show", f"student:notebooks/{lesson.name}"))
        assert all("### BEGIN SOLUTION" not in "".join(cell["source"]) for cell in committed["cells"])
    first = git(clone, "rev-parse", "student")
    assert main(["student-copy", "--branch", "student"]) == 0
    assert git(clone, "rev-parse", "student") == first  # nothing changed: no new commit


def test_a_new_student_copy_builds_on_the_branch(clone, tmp_path):
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    shutil.copy(LESSONS[0], lessons / LESSONS[0].name)
    assert main(["student-copy", "--branch", "student", "--notebook-dir", str(lessons)]) == 0
    first = git(clone, "rev-parse", "student")
    notebook = json.loads((lessons / LESSONS[0].name).read_text())
    notebook["cells"].append(
        {"cell_type": "markdown", "id": "closing-note", "metadata": {}, "source": "A new closing note."}
    )
    (lessons / LESSONS[0].name).write_text(json.dumps(notebook))
    assert main(["student-copy", "--branch", "student", "--notebook-dir", str(lessons)]) == 0
    assert git(clone, "rev-parse", "student^") == first  # a class's clones update by a fast-forward pull
    assert "A new closing note." in git(clone, "show", f"student:notebooks/{LESSONS[0].name}")


def test_student_copy_to_a_folder_and_a_branch_at_once(clone, tmp_path):
    """The branch holds exactly the student copy a folder gets."""
    assert main(["student-copy", str(tmp_path / "out"), "--branch", "student"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [lesson.name for lesson in LESSONS]
    for lesson in LESSONS:
        written = (tmp_path / "out" / lesson.name).read_text(encoding="utf-8")
        assert git(clone, "show", f"student:notebooks/{lesson.name}") == written.rstrip("\n")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["student-copy", "--branch", "main"], "main is the branch checked out here"),
        (["student-copy", "--branch", "two..dots"], "not a usable git branch name"),
        (["student-copy"], "a folder OUT, or --branch student"),
    ],
)
def test_student_branch_explains_bad_input(clone, capsys, argv, words):
    assert main(argv) == 2
    assert words in capsys.readouterr().err
    assert git(clone, "branch", "--format=%(refname:short)") == "main"


def test_student_branch_outside_a_clone(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["student-copy", "--branch", "student"]) == 2
    assert "is not inside a git clone" in capsys.readouterr().err


def test_hub_link_defaults_to_the_origin_remote(clone, capsys):
    assert main(["hub-link", "https://hub.example.edu"]) == 2
    assert "no 'origin' remote; pass --repo" in capsys.readouterr().err
    git(clone, "remote", "add", "origin", "https://git.example.edu/class/cnn-lessons.git")
    assert main(["hub-link", "https://hub.example.edu", "--branch", "student"]) == 0
    assert capsys.readouterr().out.strip() == hub_link(
        "https://hub.example.edu", "https://git.example.edu/class/cnn-lessons.git", "student"
    )
    assert main(["hub-link", "https://hub.example.edu", "--repo", "https://x.org/other.git"]) == 0
    assert "repo=https%3A%2F%2Fx.org%2Fother.git" in capsys.readouterr().out
    git(clone, "remote", "set-url", "origin", "git@github.example.edu:class/cnn-lessons.git")
    assert main(["hub-link", "https://hub.example.edu"]) == 2
    assert "SSH address" in capsys.readouterr().err


def test_hub_link_outside_a_clone_needs_repo(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["hub-link", "https://hub.example.edu"]) == 2
    assert "not inside a git clone" in capsys.readouterr().err
