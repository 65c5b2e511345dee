"""``cnn-lessons doctor``: check what the lessons need, and say how to fix each problem.

Checks: the Python version, every pinned package against ``requirements/constraints.txt`` (when the lessons'
repository is at hand), torch and its device, the ipywidgets and ipympl front-end extensions (present, and the
versions the kernel side expects), a Python kernel for Jupyter, and the offline data the lessons load. With
``--hub`` (in a JupyterHub's user image): also nbgitpuller, installed at the pinned version and enabled as a
Jupyter server extension, which the links of ``cnn-lessons hub-link`` need.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import json
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
LAB_PINS = ROOT / "requirements" / "lab.txt"
CLASSROOM_PINS = ROOT / "requirements" / "classroom.txt"
FIX_ALL = "run `make lab` in the lessons' folder (it reinstalls the pinned versions into .venv)"


def pins(path: Path) -> dict[str, str]:
    """The ``name==version`` pins of a requirements file (names lower-cased); none if the file is missing."""
    found = {}
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.split("#")[0].strip()
            if "==" in line:
                name, version = line.split("==", 1)
                found[name.strip().lower()] = version.strip()
    return found


def check_python() -> list[str]:
    if sys.version_info[:2] != (3, 11):
        found = ".".join(map(str, sys.version_info[:3]))
        return [f"Python {found}; the lessons are pinned and tested on 3.11. Fix: create .venv with python3.11"]
    return []


def check_packages() -> list[str]:
    """Each package of requirements/lab.txt installed at its pinned version."""
    problems = []
    for name, pinned in pins(LAB_PINS).items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name} is not installed (the lessons need {name}=={pinned}). Fix: {FIX_ALL}")
            continue
        if installed.split("+")[0] != pinned:
            problems.append(f"{name} {installed} is installed, the lessons are pinned to {pinned}. Fix: {FIX_ALL}")
    return problems


def check_torch() -> tuple[list[str], str]:
    try:
        torch = importlib.import_module("torch")
    except Exception as error:  # a broken install raises many kinds of errors
        return [f"torch does not import ({type(error).__name__}: {error}). Fix: {FIX_ALL}"], ""
    device = f"cuda ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "cpu"
    return [], f"torch {torch.__version__} imports; lessons run on {device}"


def _labextension_version(package: str) -> str | None:
    for base in (Path(sys.prefix), Path(sys.base_prefix)):
        manifest = base / "share" / "jupyter" / "labextensions" / package / "package.json"
        if manifest.exists():
            return json.loads(manifest.read_text())["version"]
    return None


def check_frontend() -> list[str]:
    """The JupyterLab extensions that draw the widgets, matching what the kernel side speaks."""
    problems = []
    expected = {}
    try:
        ipywidgets = importlib.import_module("ipywidgets")
        expected["@jupyter-widgets/jupyterlab-manager"] = ("ipywidgets", ipywidgets.__version__.split(".")[0])
    except ImportError:
        problems.append(f"ipywidgets is not installed: sliders cannot be shown. Fix: {FIX_ALL}")
    try:
        ipympl_version = importlib.import_module("ipympl._version")
        expected["jupyter-matplotlib"] = ("ipympl", ipympl_version.js_semver.lstrip("^~").split(".")[0])
    except ImportError:
        problems.append(f"ipympl is not installed: explorers cannot draw. Fix: {FIX_ALL}")
    for extension, (package, major) in expected.items():
        found = _labextension_version(extension)
        if found is None:
            problems.append(
                f"JupyterLab extension {extension} (from {package}) is missing: widgets would show "
                f"'Error displaying widget'. Fix: {FIX_ALL}"
            )
        elif package == "ipympl" and found.split(".")[0] != major:
            problems.append(f"{extension} {found} does not match {package}'s kernel side ({major}.x). Fix: {FIX_ALL}")
    return problems


def check_kernel() -> list[str]:
    try:
        from jupyter_client.kernelspec import KernelSpecManager  # imported here: a broken install is a finding

        if "python3" not in KernelSpecManager().find_kernel_specs():
            raise LookupError("no python3 kernel")
    except Exception as error:
        return [f"Jupyter has no Python kernel ({error}). Fix: {FIX_ALL}"]
    return []


def check_data() -> list[str]:
    try:
        from sklearn.datasets import load_digits, load_sample_image  # imported here: a failure is a finding

        load_sample_image("china.jpg")
        load_digits()
    except Exception as error:
        return [f"scikit-learn's shipped data does not load ({type(error).__name__}: {error}). Fix: {FIX_ALL}"]
    return []


def check_hub() -> list[str]:
    """nbgitpuller, which opens a hub-link: installed (at the pinned version) and enabled in Jupyter Server."""
    fix = "add `pip install -c requirements/constraints.txt -r requirements/classroom.txt` to the hub's user image"
    try:
        found = metadata.version("nbgitpuller")
    except metadata.PackageNotFoundError:
        return [f"nbgitpuller is not installed: the hub-link links cannot pull the lessons. Fix: {fix}"]
    from jupyter_core.paths import jupyter_config_path  # imported here: a broken install is a finding
    from jupyter_server.extension.config import ExtensionConfigManager  # (what `jupyter server extension list` reads)

    problems = []
    pinned = pins(CLASSROOM_PINS).get("nbgitpuller")
    if pinned and found != pinned:
        problems.append(f"nbgitpuller {found} is installed, the lessons were tested with {pinned}. Fix: {fix}")
    enabled = ExtensionConfigManager(read_config_path=jupyter_config_path()).get_jpserver_extensions()
    if not enabled.get("nbgitpuller"):
        problems.append(
            "nbgitpuller is installed but not enabled in Jupyter Server: its /git-pull links answer 404. "
            "Fix: jupyter server extension enable --sys-prefix nbgitpuller"
        )
    return problems


def run_checks(say: Callable[[str], None] = print, hub: bool = False) -> list[str]:
    """Run every check (``hub``: nbgitpuller's too), report each as it goes, return the problems (empty: all well)."""
    problems: list[str] = []
    torch_problems, torch_note = check_torch()
    checks = [
        ("Python", check_python()),
        ("pinned packages", check_packages()),
        ("torch", torch_problems),
        ("widget front-end extensions", check_frontend()),
        ("Jupyter kernel", check_kernel()),
        ("offline data", check_data()),
    ]
    if hub:
        checks.append(("hub (nbgitpuller)", check_hub()))
    for name, found in checks:
        if found:
            for problem in found:
                say(f"\u2717 {name}: {problem}")
        else:
            say(f"\u2713 {name}" + (f": {torch_note}" if name == "torch" else ""))
        problems += found
    say("all good: the lessons can run here" if not problems else f"{len(problems)} problem(s) found")
    return problems
