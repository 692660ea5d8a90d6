"""The numbers the README's 풀이 quote, computed with this step's code."""
import numpy as np

from memory import time_at_peak
from simulate import grid_size, vector_add_grid
from warps import WARP, lane_utilization, lanes_and_warps, present_mask, threads


def test_answer_transfer_share_over_100_kernels():
    t = time_at_peak(10**6)
    transfers = t["host->device (a, b)"] + t["device->host (c)"]
    kernel = t["kernel (read a, b; write c)"]
    assert f"{transfers * 1e6:.1f}" == "187.5" and f"{100 * kernel * 1e6:.1f}" == "358.2"
    assert f"{100 * transfers / (transfers + 100 * kernel):.0f}" == "34"
    assert f"{100 * transfers / (transfers + kernel):.0f}" == "98"


def test_answer_grid_for_2_to_31_plus_5():
    blocks = grid_size(2**31 + 5, 256)
    assert blocks == 2**23 + 1 == 8_388_609 and blocks <= 2**31 - 1
    assert 2**31 + 5 - (blocks - 1) * 256 == 5  # threads with work in the last block


def test_answer_writes_past_the_end():
    a = np.ones(1000, dtype=np.float32)
    _, _, out_of_bounds = vector_add_grid(a, a, block=256, bounds_check=False)
    assert grid_size(1000, 256) == 4 and out_of_bounds == 24 == (-1000) % 256


def test_answer_tall_thin_grid():
    assert grid_size(10**6, 8) == 125_000 > 65_535  # block (32, 8): gridDim.y over the limit
    assert grid_size(4, 32) == 1                     # gridDim.x: 4 of 32 columns used
    assert grid_size(10**6, 64) == 15_625 <= 65_535  # block (4, 64)


def test_answer_warps_of_a_7x9_block():
    x, y, _ = threads(7, 9)
    lane, warp = lanes_and_warps(7, 9)
    in_warp0 = set(zip(x[warp == 0].tolist(), y[warp == 0].tolist()))
    assert in_warp0 == {(i, j) for j in range(4) for i in range(7)} | {(i, 4) for i in range(4)}
    assert warp.max() + 1 == 2 and np.sum(warp == 1) == 31
    assert present_mask(7, 9)[-1] == 0x7FFFFFFF


def divergent_on_x_below_16(bx: int, by: int) -> int:
    x, _, _ = threads(bx, by)
    _, warp = lanes_and_warps(bx, by)
    taken = x < 16
    return sum(1 for w in np.unique(warp) if 0 < taken[warp == w].sum() < (warp == w).sum())


def test_answer_branch_on_x_below_16():
    assert divergent_on_x_below_16(32, 8) == 8   # every warp runs A and B: 200 cycles
    assert divergent_on_x_below_16(16, 16) == 0  # every lane has x < 16: A only, 100 cycles
    x, _, _ = threads(16, 16)
    assert np.all(x < 16)


def test_answer_idle_lanes():
    for block, blocks, warps, idle in [(48, 100, 200, 0.25), (64, 75, 150, 0.0)]:
        assert 4800 // block == blocks and blocks * -(-block // WARP) == warps
        assert 1 - lane_utilization(block) == idle
