"""The naive twin against the float64 reference, its reductions, and the score memory it writes."""
import numpy as np
import pytest

import reference as ref
from dlc_shared.testing import assert_close
from naive import (attention_naive_twin, lane_partials, naive_hbm_elements, scores_bytes, scores_twin,
                   softmax_rows_twin, warp_allreduce)


def qkv(heads, n, d, seed):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((heads, n, d)).astype(np.float32) for _ in range(3))


@pytest.mark.parametrize("heads,n,d", [(1, 1, 4), (2, 33, 16), (1, 100, 32)])
def test_twin_matches_the_reference(heads, n, d):
    q, k, v = qkv(heads, n, d, n)
    o = attention_naive_twin(q, k, v)
    assert o.dtype == np.float32 and (n == 1 or np.ptp(o) > 0.1)
    # a score adds d products, a softmax row sums n exponentials, an output adds n products: depth 3
    assert_close(o, ref.attention(q, k, v)[0], np.float32, terms=max(n, d), depth=3, scale=float(np.abs(v).max()))


def test_scores_and_softmax_steps():
    q, k, _ = qkv(1, 40, 8, 1)
    s = scores_twin(q, k, 0.5)
    assert_close(s, 0.5 * (q.astype(np.float64) @ k[0].T.astype(np.float64)), np.float32, terms=8,
                 scale=float(np.abs(s).max()))
    p = softmax_rows_twin(s)
    assert_close(p, ref.softmax(s), np.float32, terms=40, depth=3)


def test_each_column_lands_in_one_lane_and_the_butterfly_is_exact_on_integers():
    counts = lane_partials(np.ones((1, 70), np.float32), np.add, 0.0)[0]
    assert counts.tolist() == [3.0] * 6 + [2.0] * 26  # 70 = 2 * 32 + 6
    v = np.random.default_rng(2).integers(-50, 50, (3, 32)).astype(np.float32)
    assert np.array_equal(warp_allreduce(v, np.add), v.sum(1))
    assert np.array_equal(warp_allreduce(v, np.maximum), v.max(1))


def test_the_score_buffer_grows_as_n_squared():
    assert scores_bytes(1, 4096) == 64 * 2**20 and scores_bytes(32, 4096) == 2 * 2**30
    assert scores_bytes(1, 8192) == 4 * scores_bytes(1, 4096)
    # at n = 4096, d = 128 the n^2 terms are 97% of the traffic
    assert naive_hbm_elements(4096, 128) == 4 * 4096 * 128 + 4 * 4096**2
    assert round(4 * 4096**2 / naive_hbm_elements(4096, 128), 3) == 0.970
