"""Warps in a 2D block: the NumPy model against hand-worked cases, and (on a GPU) against the hardware."""
import numpy as np
import pytest

from dlc_shared.testing import gpu
from program import warp_lanes
from warps import ballots, divergent_warps, lane_utilization, lanes_and_warps, present_mask, sectors_per_warp


def test_a_warp_is_32_consecutive_thread_ids_x_fastest():
    lane, warp = lanes_and_warps(8, 8)  # 64 threads: rows 0-3 are warp 0, rows 4-7 warp 1
    assert warp.reshape(8, 8)[:4].max() == 0 and warp.reshape(8, 8)[4:].min() == 1
    assert lane.reshape(8, 8)[1, 0] == 8  # (x=0, y=1) is lane 8


def test_even_x_splits_every_warp_even_warp_splits_none():
    assert divergent_warps(32, 8, branch=0) == 8
    assert divergent_warps(32, 8, branch=1) == 0
    assert ballots(32, 1, branch=0)[0] == 0x55555555  # lanes 0, 2, 4, ...


def test_the_same_branch_on_y_depends_on_block_shape():
    assert divergent_warps(32, 8, branch=2) == 0    # a warp is one row: one y
    assert divergent_warps(16, 16, branch=2) == 8   # a warp is two rows: y even and odd
    assert divergent_warps(64, 4, branch=2) == 0


def test_partial_warps():
    assert lane_utilization(256) == 1.0
    assert lane_utilization(48) == 48 / 64  # the same division: exact
    assert present_mask(48, 1)[47] == 0x0000FFFF and present_mask(48, 1)[0] == 0xFFFFFFFF
    assert present_mask(7, 9)[62] == 0x7FFFFFFF  # 63 threads: the last warp holds 31 lanes


@pytest.mark.parametrize("bx,by,sectors", [(32, 8, 4), (16, 16, 4), (8, 32, 4), (4, 64, 8), (1, 256, 32)])
def test_sectors_per_warp_follow_the_rows_a_warp_spans(bx, by, sectors):
    # 32 / bx rows per warp, each row's bx floats in ceil(4 * bx / 32) sectors
    assert sectors_per_warp(bx, by) == (32 // bx) * -(-4 * bx // 32) == sectors


def test_resource_report(built_warps):
    k = built_warps.kernel("warp_lanes")
    assert 0 < k.registers <= 32 and not k.spills and k.shared_bytes == 0


@gpu
@pytest.mark.parametrize("bx,by", [(32, 8), (16, 16), (8, 32), (48, 1), (7, 9)])
@pytest.mark.parametrize("branch", [0, 1, 2])
def test_hardware_agrees_with_the_model(built_warps, bx, by, branch):
    out = warp_lanes(built_warps.output, bx, by, branch)
    lane, warp = lanes_and_warps(bx, by)
    np.testing.assert_array_equal(out[:, 0], lane)
    np.testing.assert_array_equal(out[:, 1], warp)
    np.testing.assert_array_equal(out[:, 2], present_mask(bx, by))
    np.testing.assert_array_equal(out[:, 3], ballots(bx, by, branch))
