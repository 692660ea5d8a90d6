"""The transpose twins against the float64 reference, the tile's bank conflicts, and the kernels' resources."""
import numpy as np
import pytest

import reference as ref
from transpose import bank_passes, tile_accesses, transpose_naive_twin, transpose_tiled_twin, warp_sectors

SHAPES = [(1, 1), (8, 32), (33, 70), (100, 9), (64, 64)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("pad", [0, 1])
def test_tiled_twin_writes_each_element_once_to_its_place(shape, pad):
    a = np.random.default_rng(sum(shape)).standard_normal(shape)
    out, writes = transpose_tiled_twin(a, pad)
    assert np.all(writes == 1)
    assert np.array_equal(out, ref.transpose(a))  # data is moved, not computed: equal bit for bit


@pytest.mark.parametrize("shape", SHAPES)
def test_naive_twin_writes_each_element_once_to_its_place(shape):
    a = np.random.default_rng(sum(shape)).standard_normal(shape)
    out, writes = transpose_naive_twin(a)
    assert np.all(writes == 1)
    assert np.array_equal(out, ref.transpose(a))


def test_bank_counting_on_hand_made_patterns():
    assert bank_passes(np.arange(32)) == 1            # 32 consecutive words: 32 banks
    assert bank_passes(np.arange(32) * 32) == 32      # one bank, 32 words
    assert bank_passes(np.arange(32) * 2) == 2        # even banks only, two words each
    assert bank_passes(np.zeros(32, dtype=int)) == 1  # one word: a broadcast


@pytest.mark.parametrize("j,ty", [(0, 0), (8, 3), (24, 7)])
def test_padding_removes_the_32_way_conflict_of_the_column_read(j, ty):
    plain, padded = tile_accesses(0, j, ty), tile_accesses(1, j, ty)
    assert bank_passes(plain["store tile[ty + j][tx]"]) == 1
    assert bank_passes(plain["load tile[tx][ty + j]"]) == 32
    assert bank_passes(padded["store tile[ty + j][tx]"]) == 1
    assert bank_passes(padded["load tile[tx][ty + j]"]) == 1


def test_the_tile_makes_the_write_coalesced():
    assert warp_sectors(4096, 4096, 0) == {"read": 4, "write": 32}  # 32 floats 16 KiB apart
    assert warp_sectors(4096, 4096, 1) == {"read": 4, "write": 4}


def test_tile_sizes_in_the_ptxas_report(built):
    tiles = sorted(k.shared_bytes for k in built.kernels_named("transpose_tiled_kernel"))
    assert tiles == [32 * 32 * 4, 32 * 33 * 4]  # 4096 B, and 4224 B with one float of padding per row
    assert all(k.barriers == 1 for k in built.kernels_named("transpose_tiled_kernel"))
    assert built.kernel("transpose_naive_kernel").shared_bytes == 0
