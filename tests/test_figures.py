"""cnn-lessons figures: the committed PNGs are what the code draws, byte for byte, and say what torch does."""

import contextlib
import io
import json
import re
import shutil
from pathlib import Path

import matplotlib
import pytest
import torch
import torch.nn.functional as F
from matplotlib.backends.backend_agg import FigureCanvasAgg
from torch import nn

from cnn_lessons import block_diagrams, drawing, figures, models, ops
from cnn_lessons.cli import FIGURES_DIR, LESSONS_DIR, main

TIMES, MINUS, ARROW = "\u00d7", "\u2212", "\u2192"


def shown_strings(fig) -> list[str]:
    """Every string the drawn figure shows: Text artists, and the labels drawing draws in bulk."""
    FigureCanvasAgg(fig).draw()
    strings = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        strings += [t.get_text() for t in ax.texts if t.get_visible()]
        strings += [t.get_text() for t in [ax.title] if t.get_text()]
        for collection in ax.collections:
            if isinstance(collection, drawing.TextBatch):
                strings += [t.get_text() for t in collection.texts if t.get_visible() and t.get_text()]
            elif isinstance(collection, drawing.GlyphLabels):
                strings += [s for s in collection.get_texts() if s]
    return strings


def number(text: str) -> float:
    return float(text.replace(MINUS, "-"))


# --- the committed assets -----------------------------------------------------------------------------------


def test_committed_figures_are_what_the_command_draws(tmp_path, capsys):
    assert main(["figures", str(tmp_path)]) == 0
    assert f"wrote {len(figures.FIGURES)} figures" in capsys.readouterr().out
    drawn = {p.name for p in tmp_path.iterdir()}
    committed = {p.name for p in FIGURES_DIR.iterdir()}
    assert drawn == {f"{name}.png" for name in figures.FIGURES}
    assert committed == drawn, "assets/figures should hold exactly the figures the code draws"
    differ = [name for name in sorted(drawn) if (tmp_path / name).read_bytes() != (FIGURES_DIR / name).read_bytes()]
    assert not differ, f"{differ} differ from what the code draws now; redraw them: cnn-lessons figures --force"


def test_check_passes_on_the_committed_figures(capsys):
    assert main(["figures", "--check"]) == 0
    assert f"all {len(figures.FIGURES)} figures" in capsys.readouterr().out


def test_a_figure_is_the_same_bytes_each_time_whatever_the_callers_style():
    name = "03-simple-cnn"
    first = figures.render(name)
    with matplotlib.rc_context({"font.size": 20, "lines.linewidth": 4, "savefig.dpi": 33, "savefig.bbox": "tight"}):
        again = figures.render(name)
    assert first == again
    assert first.startswith(b"\x89PNG") and b"Matplotlib" not in first  # no version stamp in the metadata


def test_the_lessons_figures_are_all_there():
    names = set(figures.FIGURES)
    lesson04 = {f"04-block-{key.replace('_', '-')}" for key in block_diagrams.BLOCK_DIAGRAMS}
    assert lesson04 <= names and len(lesson04) >= 7
    assert {"01-correlation-vs-convolution", "03-simple-cnn", "02-stride", "02-dilation"} <= names
    assert {f"02-padding-{word}" for word in ("valid", "same", "full")} <= names
    assert all(re.fullmatch(r"0[1-4]-[a-z0-9-]+", name) for name in names)


# --- refusing, and explaining -------------------------------------------------------------------------------


def test_nothing_is_overwritten_without_force(tmp_path, capsys):
    mine = tmp_path / "02-stride.png"
    mine.write_bytes(b"the teacher's own drawing")
    assert main(["figures", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "02-stride.png" in error and "pass --force" in error
    assert mine.read_bytes() == b"the teacher's own drawing"
    assert [p.name for p in tmp_path.iterdir()] == ["02-stride.png"], "nothing else is written either"

    (tmp_path / "notes.txt").write_text("keep me")
    assert main(["figures", str(tmp_path), "--force"]) == 0
    assert mine.read_bytes() == (FIGURES_DIR / "02-stride.png").read_bytes()
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_save_figures_refuses_without_force(tmp_path):
    (tmp_path / "03-simple-cnn.png").write_bytes(b"old")
    with pytest.raises(figures.FiguresExist) as refused:
        figures.save_figures(tmp_path)
    assert refused.value.paths == [tmp_path / "03-simple-cnn.png"]
    assert (tmp_path / "03-simple-cnn.png").read_bytes() == b"old"


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_an_unwritable_out_is_explained(tmp_path, capsys, where):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = blocker if where == "a file" else blocker / "figures"
    assert main(["figures", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("cnn-lessons figures: cannot write the figures to") and str(out) in error
    assert blocker.read_text() == ""


def test_a_folder_that_refuses_writing_is_explained(tmp_path, capsys, monkeypatch):
    """A read-only folder (played by a write that fails as one does: root may write anywhere)."""
    out = tmp_path / "read-only"
    out.mkdir()

    def refuse(self, data):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "write_bytes", refuse)
    assert main(["figures", str(out)]) == 2
    error = capsys.readouterr().err
    assert "cannot write the figures" in error and "Permission denied" in error
    assert list(out.iterdir()) == []


def test_check_of_a_missing_folder_is_explained(tmp_path, capsys):
    assert main(["figures", "--check", str(tmp_path / "nowhere")]) == 2
    assert "no folder" in capsys.readouterr().err


def test_check_and_force_do_not_go_together(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["figures", "--check", "--force"])
    assert stopped.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_check_names_what_differs(tmp_path, capsys):
    out = tmp_path / "figures"
    shutil.copytree(FIGURES_DIR, out)
    changed = out / "02-dilation.png"
    changed.write_bytes(changed.read_bytes() + b"\0")
    (out / "04-block-basic.png").unlink()
    (out / "old-name.png").write_bytes(b"")
    assert main(["figures", "--check", str(out)]) == 1
    report = capsys.readouterr().out
    assert f"{changed}: differs from a fresh drawing" in report
    assert f"{out / '04-block-basic.png'}: missing" in report
    assert f"{out / 'old-name.png'}: not drawn by cnn-lessons figures" in report
    assert f"{len(figures.FIGURES) - 2} of {len(figures.FIGURES)} figures" in report
    assert changed.read_bytes().endswith(b"\0"), "--check writes nothing"


# --- what the figures say -----------------------------------------------------------------------------------


def shapes_of_a_forward_pass(model: nn.Module, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    seen = {}
    leaves = [(name, m) for name, m in model.named_modules() if name and not list(m.children())]
    handles = [
        m.register_forward_hook(lambda module, args, out, name=name: seen.update({name: tuple(out.shape[1:])}))
        for name, m in leaves
    ]
    with torch.no_grad():
        model(x)
    for handle in handles:
        handle.remove()
    return seen


def shape_in(text: str) -> tuple[int, ...]:
    """``8×32×32`` at the end of a label (after an arrow or a colon) as a tuple."""
    return tuple(int(n) for n in re.search(r"(\d+(?:\u00d7\d+)*)$", text).group(1).split(TIMES))


@pytest.mark.parametrize(
    "settings",
    [
        {},  # lesson 03's reference configuration
        {"in_channels": 1, "input_size": 28, "kernel_size": 5, "padding": "valid", "conv_channels": (6, 16)},
        {"in_channels": 1, "input_size": 8, "conv_channels": (32, 64), "pool": (2, None), "hidden": (),
         "global_pool": "avg"},
    ],
    ids=["reference", "lenet-like", "global-pool"],
)  # fmt: skip
def test_cnn_diagram_shapes_are_those_of_a_forward_pass(settings):
    model = models.SimpleCNN(**settings)
    in_shape = (model.in_channels, *model.input_size)
    seen = shapes_of_a_forward_pass(model, torch.zeros(2, *in_shape))
    spec = figures.simple_cnn_spec(model)
    boxes = {node.key: node for node in spec.layers}
    for name, shape in seen.items():
        if isinstance(dict(model.named_modules())[name], nn.ReLU):
            continue  # folded into the box of the layer before it
        assert shape_in(boxes[name].note) == shape, (name, boxes[name].note, shape)
    folded = sum(node.text.endswith("+ ReLU") for node in boxes.values())
    assert folded == sum(isinstance(m, nn.ReLU) for m in model.modules())
    io = [node for node in spec.nodes if node.kind == "io"]
    assert shape_in(io[0].text) == in_shape and shape_in(io[-1].text) == (model.num_classes,)
    assert f"{sum(p.numel() for p in model.parameters()):,} parameters" in spec.title
    shown = shown_strings(figures.simple_cnn(model))
    assert all(node.note in shown for node in boxes.values())


def test_cnn_diagram_is_lesson_03s_reference_network():
    spec = figures.simple_cnn_spec(models.SimpleCNN())
    assert spec.title == "SimpleCNN, 34,522 parameters"  # 224 + 1168 + 32800 + 330, as the lesson adds up
    assert [node.key for node in spec.layers] == [
        "block1.conv", "block1.pool", "block2.conv", "block2.pool", "flatten", "classifier.fc1", "classifier.out"
    ]  # fmt: skip
    assert spec.nodes[0].text == f"input: 3{TIMES}32{TIMES}32"


def output_title(strings: list[str]) -> tuple[int, int]:
    match = next(re.match(r"output (\d+)\u00d7(\d+)", s) for s in strings if s.startswith("output "))
    return int(match.group(1)), int(match.group(2))


@pytest.mark.parametrize(
    ("name", "settings"),
    [
        ("02-padding-valid", {"padding": 0}),
        ("02-padding-same", {"padding": "same"}),
        ("02-padding-full", {"padding": 2}),  # full: d(k - 1) zeros on each side
        ("02-stride", {"stride": 2, "padding": 1}),
        ("02-dilation", {"dilation": 2}),
    ],
)
def test_lesson_02_figures_show_torchs_sizes(name, settings):
    strings = shown_strings(figures.draw(name))
    (layer,) = [s for s in strings if s.startswith("nn.Conv2d(")]
    conv = eval(layer, {"nn": nn})  # the layer the figure names, as a student would type it
    size = int(re.match(r"input (\d+)\u00d7", next(s for s in strings if s.startswith("input "))).group(1))
    out = conv(torch.zeros(1, 1, size, size))
    assert output_title(strings) == tuple(out.shape[-2:])
    assert out.shape[-2:] == F.conv2d(torch.zeros(1, 1, size, size), torch.zeros(1, 1, 3, 3), **settings).shape[-2:]


def test_padding_figures_show_the_padded_sizes():
    for name, total in [("02-padding-valid", 0), ("02-padding-same", 2), ("02-padding-full", 4)]:
        title = next(s for s in shown_strings(figures.draw(name)) if s.startswith("input "))
        padded = F.pad(torch.zeros(1, 1, 5, 5), (total // 2,) * 4).shape[-1]
        assert title.endswith(f"{padded}{TIMES}{padded}") or (total == 0 and "no padding" in title), title


def test_correlation_figure_shows_torchs_numbers():
    image = torch.tensor(figures.LESSON01_IMAGE)
    kernel = torch.tensor(figures.LESSON01_KERNEL)
    fig = figures.correlation_vs_convolution()
    shown_strings(fig)
    grids = {
        ax.get_title(): [
            number(t.get_text()) for c in ax.collections if isinstance(c, drawing.TextBatch) for t in c.texts
        ]
        for ax in fig.axes
    }
    correlation = F.conv2d(image[None, None], kernel[None, None])[0, 0]
    convolution = F.conv2d(image[None, None], kernel.flip(0, 1)[None, None])[0, 0]
    assert grids["correlation X \u22c6 W"] == correlation.flatten().tolist()
    assert grids["convolution X * W"] == convolution.flatten().tolist()
    assert grids["W flipped"] == torch.rot90(kernel, 2).flatten().tolist()
    assert grids["image X"] == image.flatten().tolist()


def test_lesson_01_draws_the_figure_with_the_default_image_and_kernel():
    lesson = json.loads((LESSONS_DIR / "01-correlation-vs-convolution.ipynb").read_text())
    sources = ["".join(cell["source"]) for cell in lesson["cells"] if cell["cell_type"] == "code"]
    assert any("figures.correlation_vs_convolution(image, kernel)" in source for source in sources)
    defining = next(source for source in sources if source.startswith("image = torch.tensor("))
    namespace = {"torch": torch, "ops": ops, "F": F}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(defining, namespace)  # the lesson's cell that defines (and prints) its image and kernel
    assert namespace["image"].tolist() == [list(row) for row in figures.LESSON01_IMAGE]
    assert namespace["kernel"].tolist() == [list(row) for row in figures.LESSON01_KERNEL]


def test_lesson_02_shows_each_of_its_figures_as_a_png():
    lesson = json.loads((LESSONS_DIR / "02-padding-stride-dilation.ipynb").read_text())
    code = [cell for cell in lesson["cells"] if cell["cell_type"] == "code"]
    for name in [name for name in figures.FIGURES if name.startswith("02-")]:
        call = f'display(figures.draw("{name}"))'
        (cell,) = [cell for cell in code if call in "".join(cell["source"])]
        calls = "".join(cell["source"]).count("display(figures.draw(")
        pngs = [o for o in cell["outputs"] if "image/png" in o.get("data", {})]
        assert len(pngs) == calls == len(cell["outputs"]), f"{name}: one stored PNG per figure shown, no widget"


def test_block_figures_are_viz_block_diagrams():
    for key, make in block_diagrams.BLOCK_DIAGRAMS.items():
        spec = make()
        fig = figures.draw(f"04-block-{key.replace('_', '-')}")
        assert tuple(fig.get_size_inches()) == pytest.approx(drawing.diagram_size(spec))
        shown = shown_strings(fig)
        assert spec.title in shown and all(node.text in shown for node in spec.layers)


# --- lesson 03, section 0: the three weight matrices --------------------------------------------------------


def three_matrices(size: int = 6) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A dense matrix, its 3×3 band (locality) and F.conv2d's matrix (sharing), built as lesson 03 builds them."""
    n = size * size
    dense = torch.randn(n, n, generator=torch.Generator().manual_seed(0))
    rows, cols = torch.arange(n) // size, torch.arange(n) % size
    near = ((rows[:, None] - rows[None, :]).abs() <= 1) & ((cols[:, None] - cols[None, :]).abs() <= 1)
    kernel = torch.randn(3, 3, generator=torch.Generator().manual_seed(1))
    impulses = torch.eye(n).view(n, 1, size, size)
    shared = F.conv2d(impulses, kernel[None, None], padding=1).view(n, n).T  # column j: the response to pixel j
    return dense, dense * near, shared


def test_dense_local_shared_titles_carry_the_counts_of_the_matrices_it_shows():
    dense, local, shared = three_matrices()
    fig = figures.dense_local_shared(dense, local, shared)
    shown_strings(fig)
    axes = [ax for ax in fig.axes if ax.images]
    assert len(axes) == 3
    for ax, matrix in zip(axes, (dense, local, shared), strict=True):
        (image,) = ax.images
        assert torch.equal(torch.as_tensor(image.get_array()), matrix)  # the image is the matrix itself
    titles = [ax.get_title() for ax in axes]
    assert titles[0].startswith("dense: 1,296 free weights")  # 36 × 36, every entry
    assert titles[1].startswith("local (banded): 256 free weights") and "1,040 entries fixed at 0" in titles[1]
    assert titles[2].startswith("shared (tied): 9 free weights") and "256 non-zeros, 9 distinct values" in titles[2]
    assert (
        int(local.count_nonzero())
        == int(shared.count_nonzero())
        == F.unfold(torch.ones(1, 1, 6, 6), 3, padding=1).sum()
    )


def test_dense_local_shared_counts_follow_the_size():
    dense, local, shared = three_matrices(size=4)
    titles = [ax.get_title() for ax in figures.dense_local_shared(dense, local, shared).axes if ax.images]
    assert [title.split(" free")[0].split(": ")[1] for title in titles] == ["256", "100", "9"]  # 16², (3·4 − 2)², 3²


def test_dense_local_shared_is_colour_blind_safe_and_white_at_zero():
    """One diverging map (blue against red, which a deuteranope keeps apart: tests/test_explorer_colours.py) for
    all three, centred on 0, so a zero weight is the map's middle, near white, in every panel."""
    fig = figures.dense_local_shared(*three_matrices())
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert {image.get_cmap().name for image in images} == {drawing.DIVERGING}
    low, high = images[0].get_clim()
    assert high == -low > 0 and all(image.get_clim() == (low, high) for image in images)
    assert matplotlib.colormaps[drawing.DIVERGING](0.5)[:3] == pytest.approx((1, 1, 1), abs=0.05)


@pytest.mark.parametrize(
    ("matrices", "words"),
    [
        ((torch.zeros(4, 4), torch.zeros(4, 4), torch.zeros(2, 2, 4)), "2-D); shared has shape (2, 2, 4)"),
        ((torch.zeros(4, 4), torch.zeros(0, 4), torch.zeros(4, 4)), "local has shape (0, 4)"),
        (
            (torch.zeros(36, 36), torch.zeros(16, 36), torch.zeros(36, 36)),
            "share one shape; got dense (36, 36), local (16, 36), shared (36, 36)",
        ),
    ],
)
def test_dense_local_shared_explains_bad_input(matrices, words):
    with pytest.raises(ValueError) as caught:
        figures.dense_local_shared(*matrices)
    assert words in str(caught.value)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: figures.receptive_field(5, 8), TypeError, "layers must be a list of (kernel_size, stride) or"),
        (lambda: figures.receptive_field([3, 1, 1], 8), TypeError, "layer 1 must be (kernel_size, stride) or"),
        (lambda: figures.receptive_field([(3, 1), "ab"], 8), TypeError, "layer 2 must be (kernel_size, stride) or"),
        (lambda: figures.receptive_field([(3, 1, 2, 1)], 8), TypeError, "got (3, 1, 2, 1)"),
        (lambda: figures.receptive_field([(3, 0)], 8), ValueError, "stride of layer 1 must be positive"),
        (
            lambda: figures.simple_cnn("x"),
            TypeError,
            "reads a models.SimpleCNN (its layers and shape_trace()), got str",
        ),
        (lambda: figures.block_diagram("x"), TypeError, "block_diagram draws a drawing.DiagramSpec, got str"),
        (lambda: figures.correlation_vs_convolution("x"), TypeError, "image must be a tensor or something torch"),
        (lambda: figures.correlation_vs_convolution(kernel=[1, 2]), ValueError, "kernel must be 2-D, got a 1-D"),
    ],
)
def test_a_figure_given_the_wrong_thing_says_what_it_takes(call, error, words):
    with pytest.raises(error) as caught:
        call()
    assert words in str(caught.value)


def test_receptive_field_figure_takes_two_or_three_numbers_a_layer():
    def png(fig):
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", metadata={"Software": None})
        return buffer.getvalue()

    assert png(figures.receptive_field([(3, 1), (3, 2)], 17, 1)) == png(
        figures.receptive_field([(3, 1, 1), (3, 2, 1)], 17, 1)
    )
    assert png(figures.receptive_field([(3, 1), (3, 2)], 17, 1)) != png(
        figures.receptive_field([(3, 1), (3, 2, 2)], 17, 1)
    )
