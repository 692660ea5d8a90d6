"""Tiles: block sizes from the budget, the tiled twin against float64, and the global loads it counts."""
import numpy as np
import pytest

from dlc_shared.testing import assert_close
from naive import scores_twin
from tiling import BUDGET_BYTES, block_sizes, naive_score_loads, tile_bytes, tiled_loads, tiled_scores_twin


@pytest.mark.parametrize("n,d,br,bc", [(1, 4, 2, 2), (33, 8, 8, 4), (64, 16, 16, 16), (50, 8, 32, 8)])
def test_tiled_twin_matches_float64_and_counts_its_loads(n, d, br, bc):
    rng = np.random.default_rng(n + d)
    q, k = (rng.standard_normal((2, n, d)).astype(np.float32) for _ in range(2))
    s, loads = tiled_scores_twin(q, k, 0.5, br, bc)
    expected = 0.5 * (q.astype(np.float64) @ np.swapaxes(k, 1, 2).astype(np.float64))
    assert s.dtype == np.float32 and (n == 1 or np.ptp(s) > 0.1)
    assert_close(s, expected, np.float32, terms=d, scale=float(np.abs(expected).max()))
    # the same d products in the same order as the untiled kernel: equal bit for bit
    assert np.array_equal(s, scores_twin(q, k, 0.5))
    assert loads == 2 * tiled_loads(n, d, br)


def test_block_sizes_follow_the_budget():
    assert block_sizes(BUDGET_BYTES, 64) == (32, 32) and block_sizes(BUDGET_BYTES, 128) == (16, 16)
    assert block_sizes(100 * 1024, 128) == (50, 50) and block_sizes(4096, 8) == (32, 32)  # 1024 floats / (4 x 8)
    for d in (64, 128):
        assert tile_bytes(*block_sizes(BUDGET_BYTES, d), d) <= BUDGET_BYTES
    with pytest.raises(ValueError, match="cannot hold"):
        block_sizes(64, 128)


def test_tiles_divide_the_loads_of_k_by_the_block_of_rows():
    n, d = 4096, 64
    assert naive_score_loads(n, d) == 2 * n * n * d
    assert tiled_loads(n, d, 32) == n * d + 128 * n * d
    assert round(naive_score_loads(n, d) / tiled_loads(n, d, 32), 2) == 63.5
