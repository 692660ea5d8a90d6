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
