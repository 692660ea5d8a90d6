"""Eight gloo processes build the groups of a dp2 x pp2 x cp1 x tp2 grid and all_reduce their ranks in each."""
import pytest

from grid import Grid
from launch import WorkerError, launch
from groups import group_sums


def test_every_group_sums_its_own_ranks():
    grid = Grid(dp=2, pp=2, cp=1, tp=2)
    sums = launch(group_sums, grid.size, grid)
    expected = {  # written out by hand from rank = (dp * 2 + pp) * 2 + tp
        0: {"dp": 0 + 4, "pp": 0 + 2, "cp": 0, "tp": 0 + 1, "dp_cp": 0 + 4},
        3: {"dp": 3 + 7, "pp": 1 + 3, "cp": 3, "tp": 2 + 3, "dp_cp": 3 + 7},
        6: {"dp": 2 + 6, "pp": 4 + 6, "cp": 6, "tp": 6 + 7, "dp_cp": 2 + 6},
    }
    for r, e in expected.items():
        assert sums[r] == e
    for r in range(grid.size):
        for name, s in sums[r].items():
            assert s == sum(grid.group_of(r, *name.split("_")))


def _fails_on_rank_1(rank, world):
    import torch
    import torch.distributed as dist
    if rank == 1:
        raise ValueError("boom")
    dist.all_reduce(torch.ones(1))   # rank 0 waits here for a partner that never comes


def test_a_failing_worker_is_reported_and_the_rest_are_killed():
    with pytest.raises(WorkerError, match="boom"):
        launch(_fails_on_rank_1, 2, timeout=20)
