"""Sector counts of a warp's access patterns, and the naive transpose's index math against NumPy."""
import numpy as np
import pytest

from coalescing import efficiency, sectors, strided_read, transpose_naive_mirror, transpose_naive_warp


@pytest.mark.parametrize("stride,expected", [(1, 4), (2, 8), (4, 16), (8, 32), (32, 32), (1000, 32)])
def test_strided_read_sectors(stride, expected):
    # 32 lanes x 4 bytes x stride span 128 * stride bytes; a sector is 32 bytes, at most one per lane
    assert sectors(strided_read(stride)) == min(32, 4 * stride) == expected


def test_efficiency_drops_to_one_eighth():
    assert efficiency(strided_read(1)) == 1.0
    assert efficiency(strided_read(32)) == 4 / 32


def test_naive_transpose_reads_coalesced_writes_scattered():
    read, write = transpose_naive_warp(rows=1024, cols=1024)
    assert sectors(read) == 4 and sectors(write) == 32


@pytest.mark.parametrize("shape", [(1, 1), (8, 32), (33, 70), (100, 9)])
def test_transpose_mirror_matches_numpy(shape):
    a = np.random.default_rng(sum(shape)).standard_normal(shape).astype(np.float32)
    out, writes = transpose_naive_mirror(a)
    assert np.all(writes == 1)
    np.testing.assert_array_equal(out, a.T)
