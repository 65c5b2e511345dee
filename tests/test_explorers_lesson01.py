"""Lesson 01's explorers, driven headless: set a control's value, then check what the figure shows.

The expected numbers are computed here with torch directly (``F.conv1d``/``F.conv2d``, slicing the padded
input by hand), not with the ``cnn_lessons.ops`` functions the explorers use.
"""

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from explorer_checks import artists, watch_drawing
from matplotlib._pylab_helpers import Gcf

from cnn_lessons import drawing, explorers, ops
from cnn_lessons.data import LUMA_WEIGHTS, PHOTO_NAMES, load_photo
from cnn_lessons.explorers import MODES, KernelPicker, StepThroughExplorer, kernel_picker

PACKAGE = Path(__file__).resolve().parents[1] / "cnn_lessons"
fmt = drawing.format_number
MINUS = "\u2212"


def flat(grid):
    return [text for row in grid.get_texts() for text in row]


def strings(values):
    return [fmt(v) for v in torch.as_tensor(values).reshape(-1).tolist()]


def pads(padding, k):
    """(left, right) zeros for padding int / 'valid' / 'same' (torch's split) / 'full', worked out here."""
    if padding == "same":
        return (k - 1) // 2, k - 1 - (k - 1) // 2
    if padding == "full":
        return k - 1, k - 1
    if padding == "valid":
        return 0, 0
    return padding, padding


def expected(explorer):
    """What the explorer should show now, from torch alone: per dimension (window start, kernel as
    applied, products, full output)."""
    convolution = explorer.mode.value == "convolution"
    x, w = explorer.signal.float(), explorer.kernel.float()
    img, k2 = explorer.image.float(), explorer.image_kernel.float()
    w = w.flip(-1) if convolution else w
    k2 = k2.flip(-2, -1) if convolution else k2
    left, right = pads(explorer.padding, len(w))
    (top, bottom), (l2, r2) = pads(explorer.padding, k2.shape[0]), pads(explorer.padding, k2.shape[1])
    xp = F.pad(x, (left, right))
    imgp = F.pad(img, (l2, r2, top, bottom))
    out1d = F.conv1d(xp[None, None], w[None, None])[0, 0]
    out2d = F.conv2d(imgp[None, None], k2[None, None])[0, 0]
    if explorer.padding in (0, "same", "valid"):  # torch does the padding itself: the same numbers
        assert torch.allclose(out1d, F.conv1d(x[None, None], w[None, None], padding=explorer.padding)[0, 0])
        assert torch.allclose(out2d, F.conv2d(img[None, None], k2[None, None], padding=explorer.padding)[0, 0])

    position = explorer.position.value
    i = min(position, len(out1d) - 1)
    r, c = divmod(min(position, out2d.numel() - 1), out2d.shape[1])
    products1d = xp[i : i + len(w)] * w
    products2d = imgp[r : r + k2.shape[0], c : c + k2.shape[1]] * k2
    return (i, w, xp, products1d, out1d), ((r, c), k2, imgp, products2d, out2d)


def check_explorer(explorer):
    """Every number and highlight the explorer shows equals the torch computation."""
    (i, w, xp, products1d, out1d), ((r, c), k2, imgp, products2d, out2d) = expected(explorer)
    view = explorer.view
    assert explorer.positions() == (i, (r, c))

    # 1-D: window outline at the first padded index, kernel (flipped for convolution) and products under it
    assert explorer.step1d.position == (i,)
    assert view.window1d.get_x() == int(explorer.step1d.cols[0]) == i
    assert view.window1d.get_width() == len(w)
    assert flat(view.input1d) == strings(xp)
    assert flat(view.kernel1d) == strings(w)
    assert view.kernel1d.x == view.product1d.x == i
    assert flat(view.product1d) == strings(products1d)
    # the output cell: the sum of the products, equal to torch's value; earlier outputs filled, later blank
    shown = flat(view.output1d)
    assert explorer.step1d.total == pytest.approx(float(products1d.sum()))
    assert explorer.step1d.total == pytest.approx(float(out1d[i]))
    assert shown[i] == fmt(products1d.sum()) == fmt(out1d[i])
    assert shown[:i] == strings(out1d[:i])
    assert shown[i + 1 :] == [""] * (len(out1d) - i - 1)
    assert view.current1d.get_x() == view.output1d.x + i

    # 2-D: the same, the window outline's (x, y) = (first padded column, first padded row)
    assert explorer.step2d.position == (r, c)
    kh, kw = k2.shape
    assert (view.window2d.get_x(), view.window2d.get_y()) == (c, r)
    assert (int(explorer.step2d.cols[0]), int(explorer.step2d.rows[0])) == (c, r)
    assert (view.window2d.get_width(), view.window2d.get_height()) == (kw, kh)
    assert flat(view.input2d) == strings(imgp)
    assert flat(view.kernel2d) == strings(k2)
    assert flat(view.product2d) == strings(products2d)
    shown = flat(view.output2d)
    current = r * out2d.shape[1] + c
    assert explorer.step2d.total == pytest.approx(float(out2d[r, c]))
    assert shown[current] == fmt(products2d.sum()) == fmt(out2d[r, c])
    assert shown[:current] == strings(out2d.reshape(-1)[:current])
    assert shown[current + 1 :] == [""] * (out2d.numel() - current - 1)
    assert (view.current2d.get_x(), view.current2d.get_y()) == (view.output2d.x + c, view.output2d.y + r)

    # the labels and the written-out sums follow the mode
    word = explorer.mode.value
    assert view.heading1d.get_text().startswith(f"1-D {word}:")
    assert view.heading2d.get_text().startswith(f"2-D {word}:")
    assert view.heading1d.get_text().split(":", 1)[1].strip().startswith(explorers.step_equation(explorer.step1d))
    assert f"= <b>{fmt(out1d[i])}</b>" in explorer.readout.value
    assert f"= <b>{fmt(out2d[r, c])}</b>" in explorer.readout.value
    flipped = word == "convolution"
    assert view.labels1d["kernel"].get_text() == ("w flipped" if flipped else "kernel w")
    assert view.titles2d["kernel"].get_text() == ("w flipped" if flipped else "kernel w")


CONFIGS = {
    "defaults": dict(),
    "same padding, odd sizes": dict(
        signal=[2, -1, 0, 3, 1, 4, 0, 2, 1],
        kernel=[1, 0, -2, 1],
        image=torch.arange(35).reshape(5, 7) % 4,
        image_kernel=[[1, 0, -1], [2, 1, 0]],
        padding="same",
    ),
    "full padding, floats": dict(
        signal=[0.5, 1.5, -2.0, 1.0],
        kernel=[0.25, -1.0],
        image=[[1.5, 0.0, -1.0], [2.0, 1.0, 0.5]],
        image_kernel=[[1.0, -0.5], [0.0, 2.0]],
        padding="full",
    ),
}


@pytest.fixture
def explorer():
    explorer = StepThroughExplorer()
    yield explorer
    explorer.close()


# --- the step-through explorer --------------------------------------------------------------------------------


def test_defaults_are_small_asymmetric_and_distinguish_the_modes(explorer):
    assert explorer.signal.tolist() == [3, 1, 0, 2, 5, 4, 1, 2]
    assert explorer.kernel.tolist() != explorer.kernel.flip(0).tolist()
    assert explorer.image.shape == (6, 6)
    assert explorer.image_kernel.tolist() != explorer.image_kernel.flip(0, 1).tolist()
    correlation, convolution = explorer.outputs["correlation"], explorer.outputs["convolution"]
    assert not torch.equal(correlation[0], convolution[0])
    assert not torch.equal(correlation[1], convolution[1])
    assert explorer.mode.options == MODES
    assert explorer.mode.value == "correlation" and explorer.position.value == 0
    check_explorer(explorer)


def test_position_slider_moves_both_windows(explorer):
    explorer.position.value = 3
    check_explorer(explorer)
    assert explorer.view.window1d.get_x() == 3
    assert (explorer.view.window2d.get_x(), explorer.view.window2d.get_y()) == (3, 0)  # 4 outputs a row
    explorer.position.value = 5
    assert (explorer.view.window2d.get_x(), explorer.view.window2d.get_y()) == (1, 1)
    check_explorer(explorer)


def test_correlation_matches_torch_by_hand_at_one_position(explorer):
    explorer.position.value = 3
    x = torch.tensor([3.0, 1, 0, 2, 5, 4, 1, 2])
    w = torch.tensor([1.0, 2, -1])
    assert flat(explorer.view.product1d) == ["2", "10", MINUS + "4"]
    assert flat(explorer.view.output1d)[3] == fmt(F.conv1d(x[None, None], w[None, None])[0, 0, 3]) == "8"
    assert explorer.readout.value.split("<br>")[1] == "1-D: out[3] = 2\u00b71 + 5\u00b72 + 4\u00b7(\u22121) = <b>8</b>"


def test_convolution_mode_shows_the_flipped_kernel(explorer):
    explorer.position.value = 2
    explorer.mode.value = "convolution"
    check_explorer(explorer)
    assert flat(explorer.view.kernel1d) == ["\u22121", "2", "1"]  # [1, 2, -1] reversed
    assert explorer.view.kernel2d.get_texts() == [["\u22121", "\u22121", "0"], ["0", "1", "0"], ["0", "2", "1"]]
    x, w = explorer.signal.float(), explorer.kernel.float()
    assert flat(explorer.view.output1d)[2] == fmt(F.conv1d(x[None, None], w.flip(-1)[None, None])[0, 0, 2])
    img, k = explorer.image.float(), explorer.image_kernel.float()
    assert flat(explorer.view.output2d)[2] == fmt(F.conv2d(img[None, None], k.flip(-2, -1)[None, None])[0, 0, 0, 2])
    assert "flipped" in explorer.readout.value
    explorer.mode.value = "correlation"
    check_explorer(explorer)


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_every_position_in_both_modes(config):
    explorer = StepThroughExplorer(**config)
    fig, before = explorer.fig, artists(explorer.fig)
    positions = range(explorer.position.min, explorer.position.max + 1)
    assert explorer.position.max == max(explorer.length1d, explorer.length2d) - 1
    for mode in MODES:
        explorer.mode.value = mode
        for position in (*positions, 0):
            explorer.position.value = position
            check_explorer(explorer)
    assert explorer.fig is fig and artists(fig) == before
    explorer.close()


def test_position_maps_to_1d_index_and_row_major_2d_cell():
    explorer = StepThroughExplorer(**CONFIGS["same padding, odd sizes"])
    assert (explorer.length1d, explorer.shape2d) == (9, (5, 7))
    assert explorer.position.max == 34
    assert explorer.positions(0) == (0, (0, 0))
    assert explorer.positions(8) == (8, (1, 1))
    assert explorer.positions(9) == (8, (1, 2))  # the 1-D output has 9 cells: held at its last one
    assert explorer.positions(34) == (8, (4, 6))
    explorer.position.value = 20
    assert explorer.view.heading1d.get_text().endswith("(its last output)")
    assert not explorer.view.heading2d.get_text().endswith("(its last output)")
    explorer.close()

    wide = StepThroughExplorer(
        signal=list(range(20)), kernel=[1, -1], image=[[1, 2], [3, 4]], image_kernel=[[1, 0], [0, 2]]
    )
    assert wide.position.max == 18 and wide.positions(18) == (18, (0, 0))  # a single 2-D output
    wide.position.value = 18
    check_explorer(wide)
    assert wide.view.heading2d.get_text().endswith("(its last output)")
    wide.close()


def test_callbacks_update_in_place_and_redraw(explorer, monkeypatch):
    made, redraws = watch_drawing(explorer, monkeypatch)
    fig, before = explorer.fig, artists(explorer.fig)
    texts = [t for row in explorer.view.output2d.texts for t in row]
    explorer.position.value = 7
    explorer.mode.value = "convolution"
    explorer.position.value = 1
    assert len(redraws) == 3  # one redraw per change
    assert made == []  # no figure made by a callback
    assert explorer.fig is fig and explorer.canvas.figure is fig
    assert artists(fig) == before  # the same artists, none added or removed
    assert [t for row in explorer.view.output2d.texts for t in row] == texts
    explorer.position.value = 1  # not a change: nothing happens
    assert len(redraws) == 3


def test_explorer_displays_as_a_widget_box(explorer):
    from ipympl.backend_nbagg import Canvas

    bundle = explorer._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.box.model_id
    assert bundle["text/plain"] == repr(explorer) == "StepThroughExplorer(position=0, mode='correlation')"
    assert isinstance(explorer.canvas, Canvas) and explorer.canvas in explorer.box.children
    assert explorer.canvas.figure is explorer.fig
    assert not explorer.canvas.header_visible and not explorer.canvas.footer_visible
    assert not explorer.canvas.resizable
    assert explorer.canvas.manager is not None and explorer.canvas.toolbar is not None
    assert Gcf.get_num_fig_managers() == 0  # not registered with pyplot
    other = StepThroughExplorer()
    assert other.canvas.manager.num != explorer.canvas.manager.num
    other.close()


def test_bad_input_is_explained_by_ops():
    with pytest.raises(ValueError, match="spans 5 positions, but the padded input has only 4"):
        StepThroughExplorer(signal=[1, 2, 3, 4], kernel=[1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="image must be 2-D"):
        StepThroughExplorer(image=[1, 2, 3])


# --- the kernel picker ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def picker():
    picker = KernelPicker()
    yield picker
    picker.close()


def test_picker_shows_sobel_x_as_torch_computes_it(picker):
    picker.kernel.value = "box blur"
    picker.kernel.value = "sobel x"
    photo = load_photo()
    sobel_x = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    want = F.conv2d(photo[None, None], sobel_x[None, None], padding="same")[0, 0]
    shown = np.asarray(picker.view.result_image.get_array())
    np.testing.assert_allclose(shown, want.numpy(), atol=1e-5)
    np.testing.assert_array_equal(np.asarray(picker.view.photo_image.get_array()), photo.numpy())
    assert picker.view.kernel_grid.get_texts() == [["\u22121", "0", "1"], ["\u22122", "0", "2"], ["\u22121", "0", "1"]]
    low, high = picker.view.result_image.get_clim()
    assert low == -high and high > 0  # diverging, centred on 0
    assert picker.view.result_image.get_cmap().name == drawing.DIVERGING
    assert picker.view.photo_image.get_cmap().name == "gray"
    assert picker.view.photo_image.get_clim() == (0.0, 1.0)


def test_picker_every_kernel(picker, monkeypatch):
    photo = load_photo()
    fig, before = picker.fig, artists(picker.fig)
    _, redraws = watch_drawing(picker, monkeypatch)
    names = list(ops.CLASSIC_KERNELS)
    assert picker.kernel.options == (*names, "custom")
    assert set(names) == {"identity", "box blur", "sharpen", "sobel x", "sobel y", "laplacian"}
    for name in [*names, *reversed(names)]:
        picker.kernel.value = name
        weights = ops.CLASSIC_KERNELS[name]
        want = F.conv2d(photo[None, None], weights[None, None], padding="same")[0, 0]
        np.testing.assert_allclose(np.asarray(picker.view.result_image.get_array()), want.numpy(), atol=1e-5)
        assert flat(picker.view.kernel_grid) == strings(weights)
        assert [cell.value for cell in picker.cell_widgets()] == weights.flatten().tolist()  # ready to edit
        assert picker.view.kernel_title.get_text() == name
        low, high = picker.view.result_image.get_clim()
        if abs(float(weights.sum())) < 1e-6:  # edge detectors: signed output on a diverging scale
            assert low == -high and high >= float(want[1:-1, 1:-1].abs().max()) - 1e-6
            assert picker.view.result_image.get_cmap().name == drawing.DIVERGING
        else:  # brightness-keeping kernels: the original's grey scale
            assert (low, high) == (0.0, 1.0)
            assert picker.view.result_image.get_cmap().name == "gray"
        assert name in picker.note.value
    assert len(redraws) >= len(names)
    assert picker.fig is fig and len(fig.axes) == len(before)
    for (ax, children), (ax_now, children_now) in zip(before, artists(fig), strict=True):
        assert ax is ax_now
        if ax is not picker.view.ax_colorbar:  # the colour bar redraws its own gradient when the map changes
            assert children == children_now
    np.testing.assert_allclose(np.asarray(picker.view.photo_image.get_array()), photo.numpy())  # untouched


def torch_facts(photo, kernel):
    """Correlation, convolution and the numbers the picker states, from F.conv2d and torch.rot90 alone."""
    k = torch.as_tensor(kernel, dtype=torch.float32)
    turned = torch.rot90(k, 2)  # half a turn: what convolution does to the kernel
    correlation = F.conv2d(photo[None, None], k[None, None], padding="same")[0, 0]
    convolution = F.conv2d(photo[None, None], turned[None, None], padding="same")[0, 0]
    gap = (correlation - convolution).abs()
    symmetry = "symmetric" if torch.equal(turned, k) else "antisymmetric" if torch.equal(turned, -k) else "neither"
    inner = (slice(1, -1), slice(1, -1))
    return dict(
        correlation=correlation,
        convolution=convolution,
        symmetry=symmetry,
        difference=float(gap.max()),
        mean_difference=float(gap.mean()),
        share=float(gap.max() / correlation.abs().max()),
        total=float(k.double().sum()),
        photo_mean=float(photo[inner].double().mean()),
        result_mean=float(correlation[inner].double().mean()),
    )


KERNELS = {
    "asymmetric": [[1.0, 2, 0], [0, 1, -1], [0.5, 0, 0]],
    "mirror only": [[1.0, 0, 1], [2, 0, 2], [0, 0, 0]],  # symmetric left-right, not under the half turn
    "antisymmetric": [[0.0, 1, 2], [-1, 0, 1], [-2, -1, 0]],
    "symmetric": [[0.5, 0, 0.25], [1, 3, 1], [0.25, 0, 0.5]],
    "zero sum": [[1.0, -1, 0], [2, 0, -2], [0, 1, -1]],
    "halving": [[0.0, 0.25, 0], [0, 0.25, 0], [0, 0, 0]],
    "negative": [[0.0, 0, 0], [0, -1, 0], [0, 0, 0]],
}


@pytest.mark.parametrize("case", list(KERNELS))
def test_kernel_picture_is_what_torch_computes(case):
    photo = load_photo(size=48)
    kernel = KERNELS[case]
    picture = kernel_picker.kernel_picture(photo, kernel)
    want = torch_facts(photo, kernel)
    torch.testing.assert_close(picture.result, want["correlation"], atol=1e-5, rtol=0)
    torch.testing.assert_close(picture.convolved, want["convolution"], atol=1e-5, rtol=0)
    assert picture.symmetry == want["symmetry"]
    assert picture.flip_difference == pytest.approx(want["difference"], abs=1e-5)
    assert picture.flip_share == pytest.approx(want["share"], abs=1e-5)
    assert picture.weight_sum == pytest.approx(want["total"], abs=1e-9)
    assert picture.photo_mean == pytest.approx(want["photo_mean"], abs=1e-6)
    assert picture.result_mean == pytest.approx(want["result_mean"], abs=1e-5)
    assert picture.signed == (want["total"] <= 1e-6) and not picture.problem
    # the sentences state those numbers
    assert f"weights sum to {fmt(want['total'])}" in picture.brightness
    assert f"from {fmt(want['photo_mean'])} to {fmt(want['result_mean'])}" in picture.brightness
    if want["symmetry"] == "symmetric":
        assert want["difference"] == 0 and "the same kernel" in picture.flip and "differ by 0 " in picture.flip
    elif want["symmetry"] == "antisymmetric":
        torch.testing.assert_close(want["convolution"], -want["correlation"])
        assert "minus the correlation" in picture.flip and f"up to {fmt(want['difference'])}" in picture.flip
    else:
        assert want["difference"] > 0.1
        assert f"up to {fmt(want['difference'], 3)} ({fmt(100 * want['share'], 1)}% of the largest" in picture.flip
        assert f"{fmt(want['mean_difference'], 3)} on average" in picture.flip


def test_kernel_picture_says_what_the_sum_does_to_brightness():
    photo = load_photo(size=32)
    said = {
        case: kernel_picker.kernel_picture(photo, KERNELS[case]).brightness
        for case in ("zero sum", "halving", "negative")
    }
    assert "a flat area becomes 0" in said["zero sum"]
    assert "0.5 times as bright, darker" in said["halving"]
    assert f"sum to {MINUS}1, less than 0" in said["negative"] and "light and dark swap" in said["negative"]
    doubling = kernel_picker.kernel_picture(photo, torch.full((3, 3), 2 / 9))
    assert "2 times as bright, brighter" in doubling.brightness and "above 1 shows as white" in doubling.brightness
    flat = torch.full((9, 9), 0.4)  # a flat photo: away from the border, each kernel multiplies it by its sum
    for case in ("halving", "negative", "asymmetric"):
        picture = kernel_picker.kernel_picture(flat, KERNELS[case])
        assert picture.result_mean == pytest.approx(0.4 * float(torch.tensor(KERNELS[case]).sum()), abs=1e-6)


def test_kernel_picture_is_pure_data():
    from test_package_shape import check_pure  # imported here: the project's purity check, not a second one

    check_pure(kernel_picker.kernel_picture)


def test_kernel_picture_explains_what_cannot_be_drawn():
    photo = load_photo(size=16)
    for bad in (float("nan"), float("inf")):
        picture = kernel_picker.kernel_picture(photo, [[0.0, 0, 0], [0, bad, 0], [0, 0, 0]])
        assert "not a finite number" in picture.problem and torch.count_nonzero(picture.result) == 0
    huge = kernel_picker.kernel_picture(photo, torch.full((3, 3), 1e38))
    assert "too large (up to 1e+38)" in huge.problem and "below 1e30 work" in huge.problem
    with pytest.raises(ValueError, match=r"must be 2-D and fit inside the 16x16 photo, got shape \(3,\)"):
        kernel_picker.kernel_picture(photo, [1.0, 2, 3])
    with pytest.raises(ValueError, match=r"2-D grayscale image \(H, W\), got shape \(1, 16, 16\)"):
        kernel_picker.kernel_picture(photo[None], torch.eye(3))


def test_kernel_picture_checks_each_side_and_says_what_it_cannot_draw_in_full():
    photo = torch.rand(8, 16, generator=torch.Generator().manual_seed(0))  # not square: the sides differ
    assert not kernel_picker.kernel_picture(photo, torch.ones(8, 16)).problem, "a kernel as large as the photo fits"
    for kernel in (torch.ones(9, 3), torch.ones(3, 17)):
        with pytest.raises(ValueError) as caught:
            kernel_picker.kernel_picture(photo, kernel)
        assert str(caught.value) == (
            f"the kernel must be 2-D and fit inside the 8x16 photo, got shape {tuple(kernel.shape)}: a 3x3 kernel, "
            "for example"
        )
    nan = kernel_picker.kernel_picture(photo, [[float("nan")]])
    assert nan.problem == "a weight is not a finite number (nan or infinity): type numbers such as \u22121, 0.5 or 2"
    assert (nan.brightness, nan.flip, nan.short_note) == ("", "", "nothing to show:\nsee the note")
    assert kernel_picker.kernel_picture(photo, torch.full((3, 3), 1e38)).problem == (
        "the weights are too large (up to 1e+38): the filtered values pass float32's largest number, about 3.4e38; "
        "weights below 1e30 work"
    )
    assert kernel_picker.kernel_picture(torch.zeros(8, 8), torch.eye(3)).flip_share == 0, "a black photo: nothing"


def test_a_weight_sum_counts_as_zero_within_a_millionth_of_the_weights_size():
    photo = torch.rand(8, 8, generator=torch.Generator().manual_seed(1))
    wide = kernel_picker.kernel_picture(photo, [[5.0, -4.9999995]])  # float32 sum 4.8e-7, weights of size 10
    assert wide.signed and wide.brightness.startswith("Its weights sum to 0: a flat area becomes 0")
    narrow = kernel_picker.kernel_picture(photo, [[0.5, -0.4999985]])  # sum 1.5e-6, weights of size 1
    assert not narrow.signed and "a flat area becomes 0" not in narrow.brightness


def test_typing_a_weight_switches_to_custom_and_filters_live(monkeypatch):
    photo = load_photo(size=40)
    picker = KernelPicker(photo, kernel="sobel x")
    made, redraws = watch_drawing(picker, monkeypatch)
    fig, before = picker.fig, artists(picker.fig)
    typed = ops.CLASSIC_KERNELS["sobel x"].clone()
    for (r, c), value in [((0, 0), 2.0), ((1, 1), -0.5), ((2, 1), 1.25)]:
        picker.cells[r][c].value = value
        typed[r, c] = value
        assert picker.kernel.value == "custom"
        want = torch_facts(photo, typed)
        np.testing.assert_allclose(picker.view.result_image.get_array(), want["correlation"].numpy(), atol=1e-5)
        assert flat(picker.view.kernel_grid) == strings(typed)
        assert picker.view.kernel_title.get_text() == "custom"
        assert f"weights sum to {fmt(want['total'])}" in picker.note.value
        assert f"up to {fmt(want['difference'], 3)}" in picker.note.value  # no longer antisymmetric
        assert picker.view.kernel_note.get_text().startswith(f"weights sum to {fmt(want['total'])}")
    assert len(redraws) == 3 and made == []  # one redraw per typed number, no new figure
    assert picker.fig is fig and [ax for ax, _ in artists(fig)] == [ax for ax, _ in before]
    assert (
        repr(picker) == "KernelPicker(kernel='custom', weights=[[2.0, 0.0, 1.0], [-2.0, -0.5, 2.0], [-1.0, 1.25, 1.0]])"
    )

    picker.kernel.value = "laplacian"  # a classic kernel writes its weights into the inputs, ready to edit
    assert [cell.value for cell in picker.cell_widgets()] == ops.CLASSIC_KERNELS["laplacian"].flatten().tolist()
    assert len(redraws) == 4
    picker.kernel.value = "custom"  # custom starts from the weights on show
    np.testing.assert_allclose(
        picker.view.result_image.get_array(),
        torch_facts(photo, ops.CLASSIC_KERNELS["laplacian"])["correlation"],
        atol=1e-5,
    )
    picker.cells[1][1].value = float("inf")  # explained in the widget, never raised
    assert "nothing to show" in picker.note.value and "not a finite number" in picker.note.value
    assert picker.view.result_title.get_text() == "nothing to show: see the note"
    assert len(redraws) == 6
    picker.close()


def test_picker_starts_from_typed_weights_and_refuses_bad_ones():
    photo = load_photo(size=24)
    weights = KERNELS["asymmetric"]
    picker = KernelPicker(photo, kernel="custom", weights=weights)
    np.testing.assert_allclose(
        picker.view.result_image.get_array(), torch_facts(photo, weights)["correlation"].numpy(), atol=1e-5
    )
    static = picker.static_figure()
    assert static is not picker.fig and len(static.axes) == len(picker.fig.axes)
    picker.close()
    with pytest.raises(ValueError, match=r"weights must be 3x3 \(three rows of three numbers\), got shape \(2, 2\)"):
        KernelPicker(photo, kernel="custom", weights=[[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="pass kernel='custom', not 'sobel x'"):
        KernelPicker(photo, kernel="sobel x", weights=weights)


# --- the photo ------------------------------------------------------------------------------------------------


def test_load_photo_shape_range_and_copies():
    photo = load_photo()
    assert photo.shape == (128, 128) and photo.dtype == torch.float32
    assert 0.0 <= float(photo.min()) < 0.2 and 0.8 < float(photo.max()) <= 1.0
    assert float(photo.std()) > 0.1  # a real picture, not a flat field
    assert load_photo(size=32).shape == (32, 32)
    assert not torch.equal(load_photo("flower.jpg", 32), load_photo("china.jpg", 32))
    photo[:] = 0  # the caller's copy: the next call is unaffected
    assert float(load_photo().max()) > 0.8


def test_load_photo_is_bt601_luma_of_the_centre_square_averaged_by_area():
    from sklearn.datasets import load_sample_image

    rgb = torch.tensor(load_sample_image("china.jpg"), dtype=torch.float64)  # (427, 640, 3)
    height, width, _ = rgb.shape
    left = (width - height) // 2
    luma = (rgb[:, left : left + height] @ torch.tensor(LUMA_WEIGHTS, dtype=torch.float64)) / 255
    full = load_photo(size=height)
    np.testing.assert_allclose(full.numpy(), luma.numpy(), atol=1e-5)
    assert height == 7 * 61  # so a 61-pixel photo is exact 7x7 block means
    np.testing.assert_allclose(load_photo(size=61).numpy(), F.avg_pool2d(luma[None, None], 7)[0, 0].numpy(), atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(name="lena.png"), "name must be one of"),
        (dict(name=None), "name must be one of"),
        (dict(size=0), "size must be between 1 and 427"),
        (dict(size=428), "size must be between 1 and 427"),
        (dict(size=64.0), "size must be a whole number"),
        (dict(size=True), "size must be a whole number"),
    ],
)
def test_load_photo_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_photo(**kwargs)
    assert PHOTO_NAMES == ("china.jpg", "flower.jpg")
