"""cnn_lessons.drawing: number formatting, annotated grids, written-out sums, static figures."""

import io

import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cnn_lessons import drawing, explorers, ops

MINUS = "\u2212"


@pytest.mark.parametrize(
    "value, text",
    [
        (3, "3"),
        (-1.0, MINUS + "1"),
        (1 / 9, "0.11"),
        (2.5, "2.5"),
        (-0.001, "0"),
        (0.0, "0"),
        (-0.0, "0"),
        (12.345, "12.35"),
        (torch.tensor(-4.0), MINUS + "4"),
    ],
)
def test_format_number(value, text):
    assert drawing.format_number(value) == text


def test_draw_grid_annotates_every_cell_for_a_static_figure():
    fig = Figure(figsize=(3, 3))
    ax = fig.add_subplot()
    kernel = ops.CLASSIC_KERNELS["sobel x"]
    grid = drawing.draw_grid(ax, kernel, cmap=drawing.DIVERGING, title="Sobel x")
    assert grid.shape == (3, 3)
    assert grid.get_texts() == [[MINUS + "1", "0", "1"], [MINUS + "2", "0", "2"], [MINUS + "1", "0", "1"]]
    assert grid.patches[1][0].get_facecolor()[2] > grid.patches[1][0].get_facecolor()[0]  # negative: blue
    assert grid.patches[1][2].get_facecolor()[0] > grid.patches[1][2].get_facecolor()[2]  # positive: red
    assert grid.patches[0][1].get_facecolor()[:3] == pytest.approx((1, 1, 1), abs=0.05)  # zero: white
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # y points down: row 0 on top
    assert ax.get_title() == "Sobel x"
    fig.savefig(io.BytesIO(), format="png")
    row = drawing.draw_grid(Figure().add_subplot(), [1, 2, 3])  # a 1-D row
    assert row.shape == (1, 3) and row.get_texts() == [["1", "2", "3"]]


def test_grid_updates_in_place():
    ax = Figure().add_subplot()
    grid = drawing.Grid(ax, (2, 3))
    patches, texts = list(ax.patches), list(ax.texts)
    grid.set_values([[1, 2, 3], [4, 5, 6]], show=[[True, False, True], [False, True, False]])
    assert grid.get_texts() == [["1", "", "3"], ["", "5", ""]]
    grid.move_to(4, 2)
    assert grid.patches[1][2].get_xy() == (6, 3) and grid.texts[1][2].get_position() == (6.5, 3.5)
    grid.set_facecolors("red")
    grid.set_textcolors([["blue"] * 3, ["green"] * 3])
    assert list(ax.patches) == patches and list(ax.texts) == texts
    with pytest.raises(ValueError, match="needs 6 values"):
        grid.set_values([1, 2, 3])
    with pytest.raises(ValueError, match="2 rows of 3 values"):
        grid.set_facecolors([["red"] * 2])


def test_step_equation_writes_the_sum_out():
    step = ops.window_step1d([3, 1, 0, 2, 5, 4], [1, 2, -1], 3)
    assert explorers.step_equation(step) == "out[3] = 2\u00b71 + 5\u00b72 + 4\u00b7(\u22121) = 8"
    assert explorers.step_equation(step, html=True).endswith("= <b>8</b>")
    step2d = ops.window_step2d(torch.arange(25.0).reshape(5, 5), torch.ones(4, 4), (1, 0))
    long = explorers.step_equation(step2d, max_terms=5)
    assert long.startswith("out[1, 0] = 5\u00b71 + 6\u00b71 + ") and "\u2026" in long
    assert long.count("+") == 4 and long.endswith(f"= {drawing.format_number(step2d.total)}")


def test_step_through_view_draws_once_for_static_figures(tmp_path):
    fig = Figure()
    step1d = ops.window_step1d([1, 2, 3, 4, 5], [1, -1], 2, padding=1)
    step2d = ops.window_step2d(torch.arange(9.0).reshape(3, 3), [[1, 0], [0, -1]], (1, 1), padding=1)
    view = explorers.StepThroughView(fig, step1d, step2d, padding1d=(1, 1), padding2d=((1, 1), (1, 1)))
    assert tuple(fig.get_size_inches()) == pytest.approx(view.figsize)
    assert fig.get_size_inches()[0] <= 9.01
    view.update(
        step1d,
        step2d,
        ops.correlate1d([1, 2, 3, 4, 5], [1, -1], padding=1),
        ops.correlate2d(torch.arange(9.0).reshape(3, 3), [[1, 0], [0, -1]], padding=1),
    )
    # padding cells are grey, the rest white
    faces = [patch.get_facecolor() for patch in view.input1d.patches[0]]
    assert faces[0] == faces[-1] != faces[1]
    assert view.input2d.patches[0][2].get_facecolor() != view.input2d.patches[1][1].get_facecolor()
    fig.savefig(tmp_path / "step.png")
    assert (tmp_path / "step.png").stat().st_size > 10_000


def _pixels(fig: Figure) -> np.ndarray:
    canvas = FigureCanvasAgg(fig) if not isinstance(fig.canvas, FigureCanvasAgg) else fig.canvas
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def _still_image_figure(data, cmap="gray_r"):
    fig = Figure(figsize=(2, 2), dpi=50)
    image = drawing.still_image(fig.add_subplot(), data, cmap, (0.0, 1.0))
    return fig, image


def test_still_image_reuses_its_picture_while_nothing_changes():
    data = np.random.default_rng(0).random((6, 6))
    fig, image = _still_image_figure(data)
    _pixels(fig)
    kept = image._still
    assert kept is not None
    image.set_data(data.copy())  # the same values again (a redraw of everything passes them all)
    image.set_cmap("gray_r")
    image.set_clim(0.0, 1.0)
    _pixels(fig)
    assert image._still is kept


@pytest.mark.parametrize(
    "change",
    [
        lambda image, data: image.set_data(data[::-1].copy()),
        lambda image, data: image.set_data(data[:4, :5].copy()),
        lambda image, data: image.set_cmap("viridis"),
        lambda image, data: image.set_clim(0.2, 0.8),
    ],
    ids=["new values", "new shape", "new colormap", "new limits"],
)
def test_still_image_draws_what_a_fresh_image_draws_after_a_change(change):
    data = np.random.default_rng(1).random((6, 6))
    fig, image = _still_image_figure(data)
    _pixels(fig)
    change(image, data)
    changed = _pixels(fig)
    fresh_fig, fresh = _still_image_figure(data)
    change(fresh, data)
    np.testing.assert_array_equal(changed, _pixels(fresh_fig))
    assert not np.array_equal(changed, _pixels(_still_image_figure(data)[0]))  # the change shows


def test_naive_drawing_draws_each_label_and_cell_on_its_own(monkeypatch):
    """The benchmarks' baseline: inside naive_drawing() the same grid draws one Text per label, one patch per cell."""
    import matplotlib.patches
    import matplotlib.text
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    texts, patches = [], []
    monkeypatch.setattr(matplotlib.text.Text, "draw", lambda self, renderer: texts.append(self.get_text()))
    monkeypatch.setattr(matplotlib.patches.Patch, "draw", lambda self, renderer: patches.append(self))
    fig = Figure()
    drawing.draw_grid(fig.add_subplot(), torch.arange(12).reshape(3, 4))
    FigureCanvasAgg(fig).draw()
    bulk_texts, bulk_patches = len(texts), len(patches)
    with drawing.naive_drawing():
        assert not drawing.bulk_drawing()
        FigureCanvasAgg(fig).draw()
    assert drawing.bulk_drawing()
    naive = [text for text in texts[bulk_texts:] if text]  # (empty Texts: the axes' unused title slots)
    assert sorted(naive, key=int) == [str(n) for n in range(12)]
    assert len(patches) - 2 * bulk_patches >= 12  # the 12 cells, each its own patch (plus what bulk draws too)
