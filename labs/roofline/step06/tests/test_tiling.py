"""Tiling: the tiled matmul against float64 NumPy, its counted traffic against the model, and the model's limits."""
import numpy as np
import pytest

from dlc_shared.testing import assert_close
from matmul import matmul_bytes_ideal, matmul_bytes_naive
from tiling import Traffic, fast_memory_bytes, tiled_intensity, tiled_matmul, tiled_matmul_bytes

rng = np.random.default_rng(11)
CASES = [(*(int(x) for x in rng.integers(1, 40, size=3)), int(rng.integers(1, 12))) for _ in range(10)]


@pytest.mark.parametrize("m,n,k,tile", CASES + [(1, 1, 1, 1), (16, 16, 16, 4), (10, 7, 13, 64)])
def test_tiled_matmul_matches_float64_numpy_and_moves_what_the_model_says(m, n, k, tile):
    a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    traffic = Traffic()
    assert_close(tiled_matmul(a, b, tile, traffic), a @ b, np.float64, terms=k)  # k products, another order
    assert traffic.stored == a.itemsize * m * n
    assert traffic.loaded + traffic.stored == tiled_matmul_bytes(m, n, k, tile, a.itemsize)


@pytest.mark.parametrize("m,n,k", [c[:3] for c in CASES])
def test_tile_one_is_the_naive_loop_and_a_whole_matrix_tile_is_ideal(m, n, k):
    assert tiled_matmul_bytes(m, n, k, 1) == matmul_bytes_naive(m, n, k)
    assert tiled_matmul_bytes(m, n, k, max(m, n)) == matmul_bytes_ideal(m, n, k)


def test_float32_tiles_move_the_expected_bytes():
    a = rng.standard_normal((20, 30)).astype(np.float32)
    b = rng.standard_normal((30, 10)).astype(np.float32)
    traffic = Traffic()
    tiled_matmul(a, b, 8, traffic)
    assert traffic.loaded + traffic.stored == tiled_matmul_bytes(20, 10, 30, 8, itemsize=4)


@pytest.mark.parametrize("n", [256, 1024, 4096])
def test_square_intensity_grows_like_tile_over_four_in_fp32(n):
    # 2n^3 / (4 (2n^3/T + n^2)) = T n / (4 (n + T/2)) ~ T/4 while T << n
    for tile in (1, 4, 16, 64):
        # the same rational number, each side one correctly rounded division of exact values: equal
        assert tiled_intensity(n, n, n, tile) == tile * n / (4 * (n + tile / 2))
    intensities = [tiled_intensity(n, n, n, t) for t in (1, 2, 4, 8, 16, 32, 64, 128, 256)]
    assert intensities == sorted(intensities)


def test_fast_memory_holds_three_tiles():
    assert fast_memory_bytes(64) == 3 * 64 * 64 * 4
    assert fast_memory_bytes(128, itemsize=2) == 3 * 128 * 128 * 2
