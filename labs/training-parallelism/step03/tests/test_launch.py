"""The launcher: results in rank order, a failing rank's traceback, a timeout; never a process left."""
import time

import pytest
import torch.distributed as dist
import torch.multiprocessing as mp

from launch import launch


def rank_and_sum(rank, world_size):
    import torch
    t = torch.tensor([float(rank + 1)])
    dist.all_reduce(t)
    return rank, world_size, t.item()


def fails_on_rank_one(rank, world_size):
    if rank == 1:
        raise ValueError("boom on rank one")
    dist.barrier()  # rank 0 would wait here for ever; the launcher must not


def sleeps(rank, world_size):
    time.sleep(60)


def test_results_come_back_in_rank_order():
    assert launch(rank_and_sum, 3) == [(0, 3, 6.0), (1, 3, 6.0), (2, 3, 6.0)]


def test_a_failing_rank_stops_the_run_with_its_traceback():
    with pytest.raises(RuntimeError, match="rank 1 failed(.|\n)*boom on rank one"):
        launch(fails_on_rank_one, 2, timeout=30)
    assert not mp.active_children()


def test_a_run_past_its_timeout_is_stopped():
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        launch(sleeps, 2, timeout=1)
    assert time.monotonic() - t0 < 10 and not mp.active_children()


def test_world_size_zero_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        launch(rank_and_sum, 0)
