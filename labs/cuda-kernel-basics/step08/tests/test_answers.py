"""The numbers the README's 풀이 quote, computed with this step's code."""
import dataclasses
import math

import numpy as np

import reduction
from banks import conflict_ways, tile_words
from dlc_shared.testing import tolerance
from occupancy import H100, occupancy, round_up
from reduction import reduce_mirror, rounding_depth, tree_profile
from shuffle import warp_allreduce_xor, warp_reduce_lane0
from tiling import matmul_flops, tiled_loads, tiled_matmul
from traffic import transpose_bytes

LANES = np.arange(32)


def test_answer_8192_transpose_bytes():  # step 2's answer; the H100 record it divides by lives in step 2
    assert transpose_bytes(8192, 8192) == 536_870_912 == 512 * 2**20


def test_answer_padding_and_passes():
    for pad, passes in [(0, 32), (1, 1), (2, 2), (32, 32)]:
        for col in range(32):  # the column read tile[lane][col]
            words = tile_words(LANES, np.full(32, col), pad=pad)
            assert conflict_ways(words) == passes == math.gcd(32 + pad, 32)


def test_answer_double_tile():
    """A double is two 4-byte words; a warp's 64-bit access is served a half-warp (16 lanes) at a time."""
    def half_warp_passes(pad_doubles: int, col: int) -> list[int]:
        row_words = 2 * (32 + pad_doubles)
        passes = []
        for half in (LANES[:16], LANES[16:]):
            first = half * row_words + 2 * col
            passes.append(conflict_ways(np.concatenate([first, first + 1])))
        return passes
    for col in range(32):
        assert half_warp_passes(0, col) == [16, 16]  # 32 passes in all
        assert half_warp_passes(1, col) == [1, 1]    # 2 passes: the least for 256 bytes


def test_answer_tile_16():
    assert 2 * 16 * 16 * 4 == 2_048  # As and Bs, float32
    n = 4096
    assert tiled_loads(n, n, n, 16) == 8_589_934_592 == 2 * tiled_loads(n, n, n, 32)
    assert tiled_loads(n, n, n, 16) // (n * n) == 512 and tiled_loads(n, n, n, 32) // (n * n) == 256
    assert matmul_flops(n, n, n) / (4 * tiled_loads(n, n, n, 16)) == 4.0  # FLOP per global byte, was 8
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((48, 64)), rng.standard_normal((64, 32))
    _, loads = tiled_matmul(a, b, tile=16)  # the mirror counts the loads it makes
    assert loads == tiled_loads(48, 32, 64, 16)


def test_answer_16x16_needs_more_than_255_registers():
    tm = tn = 16
    assert tm * tn == 256 and tm * tn + tm + tn == 288 > 255  # accumulators + regA + regB


WARP_TID = np.arange(32)  # one warp of matmul_regtile_kernel (warp 0; every warp has the same pattern)


def test_answer_regA_conflicts():
    tx, ty = WARP_TID % 16, WARP_TID // 16
    bm, bk, tm = 128, 8, 8
    for warp in range(8):
        ty_w = ty + 2 * warp
        for k in range(bk):
            for i in range(tm):
                assert conflict_ways((ty_w * tm + i) * bk + k) == 2  # As[m][k]
                assert conflict_ways(k * bm + ty_w * tm + i) == 1    # As[k][m], the kernel's layout
    assert len(set(tx.tolist())) == 16


def test_answer_A_tile_store_conflicts():
    bm, bk = 128, 8
    for first in range(0, bm * bk, 32):  # every warp of every pass of the store loop
        i = first + WARP_TID
        m, k = i // bk, i % bk
        assert conflict_ways(k * bm + m) == 8


def test_answer_v1_tree_costs():
    rows = tree_profile(1)
    assert len(rows) == 8
    assert sum(r["warps issuing"] for r in rows) == 47 == sum(r["divergent warps"] for r in rows)
    assert sum(r["block barrier"] for r in rows) == 8


def launches(n: int) -> int:
    count = 0
    while n > 1 or count == 0:
        n = reduction.reduce_blocks(n, 6)
        count += 1
    return count


def test_answer_v6_grid_size(monkeypatch):
    n = 2**26
    assert launches(n) == 3
    for blocks, expected in [(132, 2), (8192, 3)]:
        monkeypatch.setattr(reduction, "V6_BLOCKS", blocks)
        assert launches(n) == expected
    assert 132 * 8 == 1056  # resident blocks of 256 threads on an H100: 8 per SM (64 warps / 8)


def test_answer_orders_differ_within_the_bound():
    wins = {1: 0, 3: 0}
    for seed in range(50):
        x = np.random.default_rng(seed).standard_normal(reduction.BLOCK).astype(np.float32)
        ref = math.fsum(x.astype(np.float64))
        v1, v3 = reduce_mirror(x, 1), reduce_mirror(x, 3)
        for version, value in [(1, v1), (3, v3)]:
            bound = tolerance(np.float32, scale=float(np.abs(x.astype(np.float64)).sum()), terms=1,
                              depth=rounding_depth(x.size, version))
            assert abs(float(value) - ref) <= bound
        if v1 != v3:
            wins[1 if abs(float(v1) - ref) < abs(float(v3) - ref) else 3] += 1
    assert wins[1] > 0 and wins[3] > 0  # neither order is always the closer one
    assert len(tree_profile(1)) == len(tree_profile(3)) == 8  # the same depth inside a block


def test_answer_xor_gives_lane_0_the_same_bits():
    v = np.random.default_rng(7).standard_normal((1000, 32)).astype(np.float32)
    down, xor = warp_reduce_lane0(v), warp_allreduce_xor(v)
    assert np.array_equal(down.view(np.uint32), xor[:, 0].view(np.uint32))
    assert np.all(xor == xor[:, :1])  # the butterfly leaves the same sum in every lane


def test_answer_launch_bounds_3_blocks():
    assert occupancy(256, 80).blocks_per_sm == 3 and occupancy(256, 81).blocks_per_sm == 2
    assert occupancy(256, 80).occupancy == 0.375 and occupancy(256, 125).occupancy == 0.25
    assert round_up(80 * 32, 256) == 2_560 and 16_384 // 2_560 == 6  # warps per sub-partition: 6 x 4 = 24


def test_answer_100_KiB_dynamic_shared():
    assert occupancy(256, 32, dynamic_shared=100 * 1024).blocks_per_sm == 0  # without the opt-in attribute
    opted_in = dataclasses.replace(H100, shared_per_block=227 * 1024)
    occ = occupancy(256, 32, dynamic_shared=100 * 1024, sm=opted_in)
    assert round_up(100 * 1024 + 1024, 128) == 103_424
    assert occ.blocks_per_sm == 2 and occ.occupancy == 0.25 and occ.limited_by == "shared memory"
    assert occ.limits["warps"] == occ.limits["registers"] == 8
