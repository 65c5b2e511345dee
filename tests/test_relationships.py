"""cnn_lessons.relationships: the guide's fifteen relationships hold against torch, and a wrong one is caught."""

import dataclasses

import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg

from cnn_lessons import figures, relationships
from cnn_lessons.relationships import (
    FAMILIES,
    RELATIONSHIPS,
    check_relationship,
    check_round_trips,
    relationship,
    relationship_table,
)

# the configurations lesson 02 has always checked, relationship by relationship
COUNTS = {1: 120, 2: 626, 3: 120, 4: 225, 5: 480, 6: 1544, 7: 390, 8: 40, 9: 107, 10: 32, 11: 30, 12: 60, 13: 165}
COUNTS |= {14: 349, 15: 1671}


@pytest.fixture(scope="module")
def checks():
    return relationships.check_relationships()


def test_fifteen_in_the_guides_order_and_families():
    assert [rel.number for rel in RELATIONSHIPS] == list(range(1, 16))
    assert [relationship(n).number for n in range(1, 16)] == list(range(1, 16))
    families = {n: rel.family for n, rel in enumerate(RELATIONSHIPS, 1)}
    assert [families[n] for n in (1, 2, 3, 4, 5, 6, 7, 8, 14, 15)] == [
        "no padding",
        *["padding"] * 3,
        *["stride"] * 2,
        "pooling",
        *["transposed"] * 2,
        "dilation",
    ]
    assert list(dict.fromkeys(families.values())) == list(FAMILIES)
    assert all((rel.torch_values is not None) == (8 <= rel.number <= 14) for rel in RELATIONSHIPS)


def test_every_relationship_holds_over_the_lessons_configurations(checks):
    assert {check.number: check.configurations for check in checks} == COUNTS
    assert [check.values_checked for check in checks] == [8 <= n <= 14 for n in range(1, 16)]
    for check in checks:
        rel = check.relationship
        assert check.example_output == rel.formula(**rel.example) == rel.torch_size(**rel.example)


def test_the_printed_formula_is_the_checked_one():
    # the expression, filled with a configuration's numbers and evaluated, gives what the formula gives
    for rel in RELATIONSHIPS:
        for config in rel.cases():
            assert eval(rel.expression.format(**config)) == rel.formula(**config), (rel.number, config)  # noqa: S307
        assert rel.latex.startswith(f"{rel.output} = ")


def test_worked_examples_by_hand():
    assert relationship(1).worked() == "i=4, k=3: o = (4 - 3) + 1 = 2"
    assert relationship(3).worked() == "i=5, k=3, p=1: o = 5"
    assert relationship(14).worked() == "i'=3, k=3, s=2, p=1, a=1: o' = 2*(3 - 1) + 1 + 3 - 2*1 = 6"
    assert relationship(14).formula_text() == "o' = s*(i' - 1) + a + k - 2*p"
    assert (
        relationship(6).worked({"i": 7, "k": 3, "s": 2, "p": 0}) == "i=7, k=3, s=2, p=0: o = (7 + 2*0 - 3) // 2 + 1 = 3"
    )


def test_a_wrong_formula_is_caught():
    rel = relationship(6)
    off_by_one = dataclasses.replace(rel, formula=lambda i, k, s, p: (i + 2 * p - k) // s)
    with pytest.raises(AssertionError, match=r"relationship 6 fails for i=1, k=1, s=1, p=0: the formula gives o = 0"):
        check_relationship(off_by_one)
    ceil = dataclasses.replace(rel, formula=lambda i, k, s, p: -(-(i + 2 * p - k) // s) + 1)  # right for most
    with pytest.raises(AssertionError, match=r"i=1, k=1, s=3, p=1: the formula gives o = 2, torch gives 1"):
        check_relationship(ceil)


def test_wrong_values_are_caught():
    def shifted(**config):
        direct, transposed = relationships.transposed_values(**config)
        return direct.roll(1, -1), transposed

    wrong = dataclasses.replace(relationship(12), torch_values=shifted)
    with pytest.raises(AssertionError, match=r"relationship 12 fails for i'=1, k=2, s=2: the direct convolution"):
        check_relationship(wrong)


def test_an_example_outside_the_cases_is_caught():
    wrong = dataclasses.replace(relationship(1), example={"i": 40, "k": 3})
    with pytest.raises(AssertionError, match="worked example i=40, k=3 is not among its cases"):
        check_relationship(wrong)


def test_the_direct_convolution_equals_torch_on_the_examples():
    for rel in RELATIONSHIPS[7:14]:
        direct, transposed = rel.torch_values(**rel.example)
        assert direct.dtype == transposed.dtype == torch.float64
        torch.testing.assert_close(direct, transposed)
        assert direct.shape[-1] == rel.formula(**rel.example)


def test_relationship_14_undoes_a_strided_convolution():
    assert check_round_trips() == 286
    assert len(list(relationships.round_trip_cases())) == 286


def test_the_check_leaves_torch_threads_alone():
    before = torch.get_num_threads()
    check_relationship(1)
    assert torch.get_num_threads() == before


def test_table(checks):
    table = relationship_table(checks).splitlines()
    assert len(table) == 1 + len(FAMILIES) + 2 * 15
    assert table[0].split("  ")[0] == "#"
    assert table[1] == "no padding"
    assert table[2].split() == [
        "1",
        "no",
        "zero",
        "padding,",
        "unit",
        "strides",
        "o",
        "=",
        "(i",
        "-",
        "k)",
        "+",
        "1",
        "120",
    ]
    assert table[3].split() == ["i=4,", "k=3", "o", "=", "(4", "-", "3)", "+", "1", "=", "2"]
    assert "349 (sizes and values)" in table[-5]


@pytest.mark.parametrize("number", [0, 16, 1.0, True, "3"])
def test_a_number_outside_1_to_15_teaches(number):
    with pytest.raises(ValueError, match="the guide numbers its relationships 1 to 15"):
        relationship(number)


# --- the family figures (cnn_lessons.figures.relationship_family) ------------------------------------------------


def test_every_family_has_a_figure_of_its_worked_example():
    assert set(figures.FAMILY_RELATIONSHIP) == set(FAMILIES)
    for family, number in figures.FAMILY_RELATIONSHIP.items():
        rel = relationship(number)
        assert rel.family == family
        fig = figures.relationship_family(family)
        FigureCanvasAgg(fig).draw()
        if family in ("pooling", "transposed"):
            assert fig.get_suptitle().splitlines()[1] == rel.worked()


def _columns(ax) -> int:
    left, right = ax.get_xlim()
    return round(right - left)  # draw_grid fills the axes with the grid, plus a small margin


def test_the_figures_grids_have_the_relationships_sizes():
    i_, k, s, p, a = (relationship(14).example[name] for name in ("i_", "k", "s", "p", "a"))
    stretched_padded = (i_ - 1) * s + 1 + 2 * (k - 1 - p) + a
    panels = figures.relationship_family("transposed").axes
    assert [_columns(ax) for ax in panels] == [
        i_,
        stretched_padded,
        k,
        relationship(14).formula(**relationship(14).example),
    ]
    i, k, s = (relationship(7).example[name] for name in ("i", "k", "s"))
    assert [_columns(ax) for ax in figures.relationship_family("pooling").axes] == [i, (i - k) // s + 1]


def test_an_unknown_family_teaches():
    with pytest.raises(ValueError, match="no family 'strided'; the guide's families are 'no padding', 'padding'"):
        figures.relationship_family("strided")
