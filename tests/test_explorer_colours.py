"""No meaning is carried by red against green alone: the explorers' colours as a deuteranope sees them.

The criterion, for every pair of colours that tells two things apart in lessons 01-03's explorers: simulated
for a deuteranope (Machado, Oliveira & Fernandes, "A physiologically-based model for simulation of color vision
deficiency", IEEE TVCG 2009, severity 1.0, applied in linear sRGB), the two colours differ in CIE L* by at least
20, or the picture tells them apart a second way (an outline, a written value, a sentence), which the tests
below find in the drawn picture. Colour science is written out here (sRGB -> linear -> XYZ (D65) -> CIELAB),
not taken from the package.
"""

from __future__ import annotations

import matplotlib
import matplotlib.colors as mcolors
import numpy as np
import pytest
import torch

from cnn_lessons import drawing
from cnn_lessons.explorers import (
    ARITHMETIC_COLORS,
    RF_COLORS,
    ConvArithmeticExplorer,
    FeatureMapExplorer,
    KernelPicker,
    ReceptiveFieldExplorer,
    StepThroughExplorer,
)

COLORS = drawing.COLORS
MIN_LIGHTNESS = 20.0  # CIE L* units, out of 100

# Machado et al. 2009, Table 1, severity 1.0: linear RGB of the simulated deuteranope's view
DEUTERANOPIA = np.array(
    [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ]
)
SRGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
WHITE_D65 = np.array([0.95047, 1.0, 1.08883])


def lab(color, deuteranope: bool = True) -> np.ndarray:
    """CIELAB (L*, a*, b*) of ``color`` (anything matplotlib reads), as a deuteranope sees it by default."""
    srgb = np.asarray(mcolors.to_rgb(color), dtype=float)
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    if deuteranope:
        linear = np.clip(DEUTERANOPIA @ linear, 0.0, 1.0)
    xyz = SRGB_TO_XYZ @ linear / WHITE_D65
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def lightness_gap(a, b) -> float:
    """|L*(a) - L*(b)| for a deuteranope."""
    return float(abs(lab(a)[0] - lab(b)[0]))


def test_the_simulation_loses_red_against_green_and_keeps_lightness():
    red, green = "#d62728", "#2ca02c"  # matplotlib's tab:red and tab:green, about as light as each other
    normal = np.linalg.norm(lab(red, deuteranope=False) - lab(green, deuteranope=False))
    seen = np.linalg.norm(lab(red) - lab(green))
    assert normal > 70 and seen < normal / 2  # the hue difference mostly goes
    assert lightness_gap(red, green) < MIN_LIGHTNESS  # so red against green alone fails the criterion
    assert lightness_gap("white", "black") == pytest.approx(100, abs=0.5)
    assert lab("#777777")[0] == pytest.approx(lab("#777777", deuteranope=False)[0], abs=0.5)  # greys stay put


# --- pairs told apart by lightness alone ----------------------------------------------------------------------

LIGHTNESS_PAIRS = {
    # the diverging map of signed results and feature maps: 0 (white) against a strong response of either sign
    "diverging: 0 against the largest positive": (matplotlib.colormaps[drawing.DIVERGING](0.5), "pos"),
    "diverging: 0 against the largest negative": (matplotlib.colormaps[drawing.DIVERGING](0.5), "neg"),
    # feature-map grid: the grey gaps and empty tiles against a channel's 0, the outline against the gaps
    "grid gap against 0": (COLORS["edge"], "white"),
    "grid outline against the gaps": (COLORS["text"], COLORS["edge"]),
    # the highlight (window and current-output outlines, the sum arrow) against the fills it is drawn on
    "highlight against the current output": (COLORS["highlight"], COLORS["current"]),
    "highlight against an input cell": (COLORS["highlight"], COLORS["input"]),
    "highlight against a padding cell": (COLORS["highlight"], COLORS["pad"]),
    "highlight against the kernel": (COLORS["highlight"], COLORS["kernel"]),
    # conv arithmetic: why torch refuses, in red
    "problem text against the page": (ARITHMETIC_COLORS["problem"], "white"),
}


def resolve(color):
    cmap = matplotlib.colormaps[drawing.DIVERGING]
    return {"pos": cmap(1.0), "neg": cmap(0.0)}.get(color, color) if isinstance(color, str) else color


@pytest.mark.parametrize("name", list(LIGHTNESS_PAIRS))
def test_colours_told_apart_by_colour_alone_differ_in_lightness(name):
    a, b = (resolve(c) for c in LIGHTNESS_PAIRS[name])
    assert lightness_gap(a, b) >= MIN_LIGHTNESS, f"{name}: L* differs by {lightness_gap(a, b):.1f} for a deuteranope"


def test_the_signs_of_the_diverging_map_stay_apart():
    """Negative (blue) against positive (red) is a hue difference a deuteranope keeps: blue against yellow-brown."""
    cmap = matplotlib.colormaps[drawing.DIVERGING]
    for t in (0.1, 0.25, 0.4):  # a weak, a middling and a strong response of each sign
        negative, positive = lab(cmap(0.5 - t)), lab(cmap(0.5 + t))
        assert abs(negative[2] - positive[2]) >= MIN_LIGHTNESS, t  # b*: blue against yellow
    assert lightness_gap(cmap(0.5), cmap(0.9)) >= MIN_LIGHTNESS and lightness_gap(cmap(0.5), cmap(0.1)) >= MIN_LIGHTNESS


# --- pairs told apart by a second cue, found in the picture ---------------------------------------------------

SECOND_CUES = {
    # (colour, colour): the other way the picture tells them apart
    "step-through: output done against the current one": (COLORS["done"], COLORS["current"], "outline"),
    "step-through: output done against not yet": (COLORS["done"], COLORS["todo"], "written value"),
    "step-through: kernel row against products row": (COLORS["kernel"], COLORS["product"], "row label"),
    "conv arithmetic: input against never under a tap": (
        ARITHMETIC_COLORS["input"],
        ARITHMETIC_COLORS["unreached"],
        "sentence",
    ),
    "conv arithmetic: tap against never under a tap": (
        ARITHMETIC_COLORS["tap"],
        ARITHMETIC_COLORS["unreached"],
        "outline",
    ),
    "conv arithmetic: output against the output shown": (
        ARITHMETIC_COLORS["output"],
        ARITHMETIC_COLORS["current"],
        "outline",
    ),
    "conv arithmetic: no output (greyed) against an output": (
        ARITHMETIC_COLORS["none"],
        ARITHMETIC_COLORS["output"],
        "sentence",
    ),
    "receptive field: the chosen output against a feeding cell": (RF_COLORS["chosen"], RF_COLORS["feeds"], "outline"),
    "receptive field: a feeding cell against a hole": (RF_COLORS["feeds"], RF_COLORS["hole"], "tap lines"),
    "receptive field: a hole against a cell outside": (RF_COLORS["hole"], RF_COLORS["cell"], "bracket"),
}


CHECKED_CUES = {"outline", "written value", "row label", "sentence", "tap lines", "bracket"}  # by the tests below


def test_pairs_short_of_the_lightness_rule_rely_on_a_cue_that_is_checked():
    weak = {name for name, (a, b, _) in SECOND_CUES.items() if lightness_gap(a, b) < MIN_LIGHTNESS}
    assert "step-through: output done against the current one" in weak  # light green against light orange
    for name, (_, _, cue) in SECOND_CUES.items():
        assert cue in CHECKED_CUES, name


def test_step_through_outlines_the_current_output_and_writes_only_what_is_done():
    explorer = StepThroughExplorer()
    explorer.position.value = 3
    view = explorer.view
    i, (r, c) = explorer.positions()
    assert view.current1d.get_xy()[0] == view.output1d.x + i  # the current output: outlined
    assert mcolors.same_color(view.current1d.get_edgecolor(), COLORS["highlight"])
    texts = view.output1d.get_texts()[0]
    assert all(texts[j] for j in range(i + 1)) and not any(texts[i + 1 :])  # done: written; not yet: blank
    assert view.current2d.get_x() == view.output2d.x + c and view.current2d.get_y() == view.output2d.y + r
    assert view.labels1d["kernel"].get_text() == "kernel w"  # the rows say what they hold
    explorer.close()


def test_conv_arithmetic_outlines_taps_and_the_output_and_says_what_no_tap_reaches():
    explorer = ConvArithmeticExplorer(size=8, kernel_size=3, padding=0, stride=2)  # (8 - 3) % 2 = 1: one left over
    picture, view = explorer.current, explorer.view
    taps = int(np.prod([len(t) for t in picture.taps]))
    assert len(view.taps2d.get_paths()) == taps == 9  # every tap outlined
    assert len(view.current2d.get_paths()) == 1  # and the output shown
    said = " ".join(line.get_text() for line in view.lines)
    assert "never fall under a tap" in said  # the cells no tap reaches, in words
    assert not picture.reached.all()
    explorer.kernel_size.value = 5
    explorer.size.value = 2  # a kernel longer than the input: no output, greyed and said
    assert view.no_output2d.get_visible() and view.no_output_text2d.get_visible()
    assert view.no_output_text2d.get_text().strip()
    explorer.close()


def test_receptive_field_outlines_the_chosen_output_and_draws_the_taps_and_the_extent():
    explorer = ReceptiveFieldExplorer()
    view = explorer.view
    assert len(view.chosen.get_paths()) == 1
    assert len(view.links.get_segments()) > 0  # a line for every tap: the feeding cells
    assert len(view.bracket.get_segments()) > 0  # the extent on the input, holes included
    explorer.close()


def test_kernel_picker_writes_each_weight_with_its_sign():
    picker = KernelPicker(torch.rand(16, 16, generator=torch.Generator().manual_seed(0)), kernel="sobel x")
    assert picker.view.kernel_grid.get_texts()[0] == ["\u22121", "0", "1"]  # the tint's sign, also written
    picker.close()


def test_feature_map_grid_outlines_the_chosen_channel_in_a_dark_line():
    explorer = FeatureMapExplorer.example(count=2)
    explorer.channel.value = 4
    view = explorer.view
    assert view.outlined()[:2] == view.mosaic.origins[4]
    assert lightness_gap(view.outline.get_edgecolor(), COLORS["edge"]) >= MIN_LIGHTNESS
    explorer.close()
