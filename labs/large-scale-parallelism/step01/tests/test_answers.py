"""The numbers the README's 풀이 quote, computed with this step's code."""
from math import comb

from grid import Grid, layouts
from groups import KINDS


def test_answer_rank_6():
    g = Grid(dp=2, pp=2, cp=1, tp=2)
    assert g.coords(6) == {"dp": 1, "pp": 1, "cp": 0, "tp": 0}
    assert g.group_of(6, "tp") == [6, 7] and g.group_of(6, "dp") == [2, 6] and g.group_of(6, "pp") == [4, 6]


def test_answer_layout_counts():
    assert len(layouts(8)) == comb(6, 3) == 20
    assert len(layouts(12)) == comb(5, 3) * comb(4, 3) == 40


def test_answer_new_group_calls():
    g = Grid(2, 2, 2, 2)
    assert sum(len(g.groups(*axes)) for axes in KINDS) == 4 * 8 + 4 == 36
    assert len(KINDS) == 5
