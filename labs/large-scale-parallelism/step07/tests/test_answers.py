"""The numbers the README's 풀이 quote, computed with this step's code."""
from grid import Grid
from model import Config
from plan import layer_params, rank_params


def test_answer_params_per_rank():
    cfg = Config(n_expert=4)
    grid = Grid(dp=2, pp=2, tp=2)
    assert layer_params(cfg, 2, 2) == 64 + 1536 + 128 + 12_288 == 14_016
    assert rank_params(cfg, grid, 0) == 15_040 and rank_params(cfg, grid, grid.rank(pp=1)) == 15_072
    assert 4 * 3 * 32 * 64 == 24_576


def test_answer_llama3_grid():
    assert Grid(dp=128, pp=16, cp=1, tp=8).size == 16_384
