"""Bank conflicts of the transpose tile with and without padding, and the tiled transpose's index math."""
import numpy as np
import pytest

from banks import conflict_ways, transpose_smem_mirror, transpose_tile_accesses
from coalescing import sectors


def test_conflict_counting_on_hand_made_patterns():
    assert conflict_ways(np.arange(32)) == 1            # 32 consecutive words: 32 banks
    assert conflict_ways(np.arange(32) * 32) == 32      # one bank, 32 words
    assert conflict_ways(np.arange(32) * 2) == 2        # even banks only, two words each
    assert conflict_ways(np.zeros(32, dtype=int)) == 1  # one word: a broadcast


@pytest.mark.parametrize("j,ty", [(0, 0), (8, 3), (24, 7)])
def test_padding_removes_the_32_way_conflict_on_the_column_read(j, ty):
    plain, padded = transpose_tile_accesses(pad=0, j=j, ty=ty), transpose_tile_accesses(pad=1, j=j, ty=ty)
    assert conflict_ways(plain["store tile[ty + j][tx]"]) == 1
    assert conflict_ways(plain["load tile[tx][ty + j]"]) == 32
    assert conflict_ways(padded["store tile[ty + j][tx]"]) == 1
    assert conflict_ways(padded["load tile[tx][ty + j]"]) == 1


@pytest.mark.parametrize("shape", [(1, 1), (32, 32), (33, 70), (100, 9)])
def test_tiled_transpose_mirror_matches_numpy(shape):
    a = np.random.default_rng(sum(shape)).standard_normal(shape).astype(np.float32)
    out, writes = transpose_smem_mirror(a)
    assert np.all(writes == 1)
    np.testing.assert_array_equal(out, a.T)


def test_both_global_accesses_are_coalesced():
    # warp 0 of block (0, 0): reads in[j][0..31], writes out[j][0..31]; rows of 1024 floats
    lane = np.arange(32)
    assert sectors(lane * 4) == 4 and sectors((5 * 1024 + lane) * 4) == 4


def test_tile_uses_shared_memory(built):
    tiles = sorted(k.shared_bytes for k in built.kernels_named("transpose_smem_kernel"))
    assert tiles == [32 * 32 * 4, 32 * 33 * 4]  # 4096 B plain, 4224 B padded
    assert all(k.barriers == 1 for k in built.kernels_named("transpose_smem_kernel"))
