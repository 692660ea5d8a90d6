"""The numbers the README's 풀이 quote, computed with this step's code."""
import math

import numpy as np

from banks import conflict_ways, tile_words
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
