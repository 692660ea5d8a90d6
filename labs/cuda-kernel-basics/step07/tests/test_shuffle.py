"""Warp shuffles: lane 0 gets the warp's sum, the butterfly gives it to every lane; v7's resources."""
import math

import numpy as np

from dlc_shared.testing import tolerance
from reduction import tree_profile
from shuffle import shfl_down, warp_allreduce_xor, warp_reduce_lane0, warp_reduce_trace


def test_shfl_down_reads_the_lane_delta_above_or_keeps_its_own():
    v = np.arange(32)
    assert shfl_down(v, 4)[:3].tolist() == [4, 5, 6]
    assert shfl_down(v, 4)[30] == 30


def test_lane0_holds_the_warp_sum():
    v = np.random.default_rng(0).standard_normal((5, 32)).astype(np.float32)
    got = warp_reduce_lane0(v)
    for row, s in zip(v, got):
        # 5 shuffle-add stages, each value rounded at most once per stage: depth 5, scale sum|row|, terms=1
        bound = tolerance(np.float32, scale=float(np.abs(row.astype(np.float64)).sum()), depth=5)
        assert abs(float(s) - math.fsum(row.astype(np.float64))) <= bound


def test_each_step_halves_the_lanes_that_matter():
    # with integer-valued floats the sums are exact: after offset d, lanes < d hold sums of 32/d values
    v = np.ones(32, dtype=np.float32)
    trace = warp_reduce_trace(v)
    for step, offset in enumerate((16, 8, 4, 2, 1), start=1):
        assert np.all(trace[step][:offset] == 32 // offset)


def test_xor_butterfly_gives_every_lane_the_sum():
    v = np.random.default_rng(1).integers(-100, 100, 32).astype(np.float32)
    assert np.all(warp_allreduce_xor(v) == v.sum())


def test_v7_needs_32_bytes_of_shared_memory_and_one_barrier(built):
    v6, v7 = built.kernel("reduce_v6"), built.kernel("reduce_v7")
    assert v6.shared_bytes == 256 * 4 and v7.shared_bytes == 8 * 4  # one float per warp
    assert v7.barriers == 1 and not v7.spills


def test_v7_tree_has_one_barrier_and_no_shared_memory_steps():
    steps = tree_profile(7)
    assert sum(r["block barrier"] for r in steps) == 1
    assert all(r["smem passes"] == 0 and r["divergent warps"] == 0 for r in steps)
