"""The numbers the README's 풀이 quote, computed with this step's code."""
from fractions import Fraction

from grid import Grid
from schedule import bubble, one_f_one_b, simulate


def megatron_coords(rank, tp=2, dp=2):
    """Megatron's default order tp-cp-ep-dp-pp with cp = ep = 1: rank = tp + TP * (dp + DP * pp)."""
    return {"tp": rank % tp, "dp": rank // tp % dp, "pp": rank // (tp * dp)}


def test_answer_rank_orders():
    c = megatron_coords(5)
    assert c == {"tp": 1, "dp": 0, "pp": 1}
    assert [r for r in range(8) if megatron_coords(r)["tp"] == 1 and megatron_coords(r)["dp"] == 0] == [1, 5]
    ours = Grid(dp=2, pp=2, tp=2)
    assert ours.coords(5) == {"dp": 1, "pp": 0, "cp": 0, "tp": 1}
    assert ours.group_of(5, "pp") == [5, 7] and ours.group_of(5, "tp") == [4, 5]


def test_answer_interleaved():
    assert bubble(simulate(one_f_one_b, 4, 8), 4)[1] == Fraction(3, 8)
    assert Fraction(4 - 1, 2 * 8) == Fraction(3, 16)


def test_answer_distributed_optimizer():
    n, d = 8e9, 8
    assert 18 * n == 144e9 and (6 + 12 / d) * n == 60e9
