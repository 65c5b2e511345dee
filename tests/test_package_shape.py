"""The package's shape (../shared/design.md): arrows point down, modules stay small, pictures are pure data."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import types
from pathlib import Path

import pytest

from cnn_lessons import drawing, explorers, ops
from cnn_lessons.explorers import activations, conv_arithmetic, model_zoo, receptive_field, step_through

PACKAGE = Path(__file__).resolve().parents[1] / "cnn_lessons"
MODULES = sorted(PACKAGE.rglob("*.py"))
BELOW_EXPLORERS = ("arithmetic", "ops", "drawing", "models", "data", "train", "features", "exercises")
DRAWING_LIBRARIES = ("matplotlib", "ipywidgets", "ipympl")


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def name(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_module_is_small_and_plain(path):
    text = path.read_text()
    assert len(text.splitlines()) <= 800, f"{name(path)}: {len(text.splitlines())} lines; split it by concept"
    assert "__all__ +=" not in text and "noqa: E402" not in text


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_function_local_imports_say_why(path):
    lines = path.read_text().splitlines()
    tree = ast.parse("\n".join(lines))
    for function in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        for node in ast.walk(function):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                said = lines[node.lineno - 1] + lines[node.lineno - 2]
                assert "# imported here" in said, f"{name(path)}:{node.lineno}: say why (# imported here: ...)"


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_long_functions_say_why(path):
    lines = path.read_text().splitlines()
    for function in (n for n in ast.walk(ast.parse("\n".join(lines))) if isinstance(n, ast.FunctionDef)):
        body = lines[function.lineno - 1 : function.end_lineno]
        if len(body) > 60:
            assert any(line.strip().startswith("# long: ") for line in body), f"{name(path)}: {function.name}"


def test_arrows_point_down():
    for path in MODULES:
        found = imports(path)
        assert not any("pyplot" in n for n in found), f"{name(path)} uses pyplot"
        if path.parent.name == "drawing":
            assert not any(n.startswith(("ipywidgets", "ipympl")) for n in found), name(path)
            assert not any(n.startswith("cnn_lessons") and not n.startswith("cnn_lessons.drawing") for n in found)
        if path.stem in BELOW_EXPLORERS or path.parent.name in BELOW_EXPLORERS:
            assert not any("explorers" in n for n in found), f"{name(path)} imports the explorers above it"
        if path.parent.name == "explorers":
            text = path.read_text()
            assert "interact(" not in text and "clear_output" not in text and "interactive_output" not in text


def test_engine_names_are_public():
    """A new view draws with the engine's public names: no explorer reaches for an underscore in drawing."""
    for path in (PACKAGE / "explorers").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cnn_lessons.drawing"):
                assert not any(alias.name.startswith("_") for alias in node.names), name(path)


PICTURES = [
    step_through.step_equation,
    conv_arithmetic.demo_input,
    ops.padding_mode_problem,
    ops.pad_input,
    conv_arithmetic.torch_line,
    conv_arithmetic.output_size_formula,
    conv_arithmetic.conv_outcome,
    conv_arithmetic.conv_picture,
    receptive_field.receptive_field_formula,
    receptive_field.receptive_field_picture,
    model_zoo.model_picture,
    model_zoo.shape_label,
    model_zoo.header_text,
    activations.activation_picture,
    activations.activation_summary,
    explorers.transposed_picture,
    explorers.kernel_picture,
    explorers.channel_mosaic,
]


def globals_used(function) -> set[str]:
    codes, used = [function.__code__], set()
    while codes:
        code = codes.pop()
        used.update(code.co_names)
        codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return used & set(function.__globals__)


def drawing_library(value) -> bool:
    """matplotlib, the widgets, or an artist-making class of the engine (its pure text helpers are followed)."""
    if isinstance(value, types.ModuleType):
        return value.__name__.startswith((*DRAWING_LIBRARIES, "cnn_lessons.drawing", "cnn_lessons.explorers"))
    module = getattr(value, "__module__", "") or ""
    return module.startswith(DRAWING_LIBRARIES) or (inspect.isclass(value) and module.startswith("cnn_lessons.drawing"))


def check_pure(function) -> None:
    reached = [function]
    for item in reached:  # follow the package's own helpers (and theirs)
        for global_name in sorted(globals_used(item)):
            value = item.__globals__[global_name]
            assert not drawing_library(value), f"{function.__name__} reaches {global_name} ({value!r})"
            if (
                inspect.isfunction(value)
                and (value.__module__ or "").startswith("cnn_lessons")
                and value not in reached
            ):
                reached.append(value)


@pytest.mark.parametrize("function", PICTURES, ids=lambda f: f"{f.__module__.split('.')[-1]}.{f.__name__}")
def test_pictures_are_pure_data(function):
    """The picture of an explorer is computed without matplotlib, widgets or the drawing engine's artists."""
    check_pure(function)


def test_a_picture_comes_before_its_view_and_its_controls():
    for module, picture, view, explorer in [
        (conv_arithmetic, conv_arithmetic.conv_picture, explorers.ConvArithmeticView, explorers.ConvArithmeticExplorer),
        (
            receptive_field,
            receptive_field.receptive_field_picture,
            explorers.ReceptiveFieldView,
            explorers.ReceptiveFieldExplorer,
        ),
    ]:
        lines = [inspect.getsourcelines(item)[1] for item in (picture, view, explorer)]
        assert lines == sorted(lines), module.__name__


def test_the_purity_check_can_fail():
    namespace = {"__name__": "cnn_lessons.planted", "matplotlib": pytest.importorskip("matplotlib")}
    namespace["step_equation"] = step_through.step_equation
    exec("import matplotlib.figure\ndef picture():\n    return matplotlib.figure.Figure()", namespace)
    exec("def indirect():\n    return picture()", namespace)
    exec("def fine():\n    return step_equation", namespace)  # pure: only text
    namespace["drawing"] = drawing
    exec("def through_the_engine():\n    return drawing.draw_grid", namespace)
    for impure in ("picture", "indirect", "through_the_engine"):
        with pytest.raises(AssertionError, match="reaches"):
            check_pure(namespace[impure])
    check_pure(namespace["fine"])


def test_importing_the_explorers_keeps_the_lessons_backend():
    """`import ipympl` switches pyplot to the widget backend; static figures must stay inline (stored as PNG)."""
    code = (
        "import matplotlib; matplotlib.use('agg'); import matplotlib.pyplot as plt; "
        "import cnn_lessons.explorers; print(plt.get_backend())"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "agg"
