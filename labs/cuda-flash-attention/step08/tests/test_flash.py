"""The flash twin against the float64 reference, the naive twin, and the loop counter of step 4."""
import numpy as np
import pytest

import reference as ref
from dlc_shared.testing import assert_close
from flash import flash_forward_twin
from naive import attention_naive_twin
from traffic import flash_io


def qkv(heads, n, d, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return tuple((rng.standard_normal((heads, n, d)) * scale).astype(np.float32) for _ in range(3))


@pytest.mark.parametrize("heads,n,d,br,bc", [(1, 1, 4, 4, 4), (2, 33, 8, 8, 4), (1, 64, 16, 16, 16),
                                             (2, 50, 8, 32, 8), (1, 70, 4, 70, 70)])
def test_twin_matches_the_reference(heads, n, d, br, bc):
    q, k, v = qkv(heads, n, d, n * d)
    o, lse, _ = flash_forward_twin(q, k, v, br, bc)
    o_ref, lse_ref = ref.attention(q, k, v)
    assert o.dtype == np.float32 and (n == 1 or np.ptp(o) > 0.1)
    # a score adds d products; l and acc add n terms, each rescaled once per tile: depth 3 as for naive
    assert_close(o, o_ref, np.float32, terms=max(n, d), depth=3, scale=float(np.abs(v).max()))
    assert_close(lse, lse_ref, np.float32, terms=max(n, d), depth=3, scale=float(np.abs(lse_ref).max()))
    assert_close(o, attention_naive_twin(q, k, v), np.float32, terms=max(n, d), depth=6, scale=float(np.abs(v).max()))


@pytest.mark.parametrize("br,bc", [(8, 8), (16, 4), (50, 50)])
def test_the_twin_moves_what_the_loop_counter_says(br, bc):
    q, k, v = qkv(3, 50, 8, 0)
    _, _, io = flash_forward_twin(q, k, v, br, bc)
    assert {key: io[key] for key in ("reads", "writes")} == {key: 3 * n for key, n in flash_io(50, 8, br, bc).items()}
    assert io["writes"] == 3 * (50 * 8 + 50)  # O and lse: nothing of size n x n


def test_split_rows_add_their_halves():
    q, k, v = qkv(1, 30, 8, 3)
    whole, _, _ = flash_forward_twin(q, k, v, 8, 8)
    split, _, _ = flash_forward_twin(q, k, v, 8, 8, cols=4)  # two threads per row, as for d = 128
    assert_close(split, whole, np.float32, terms=30, depth=6, scale=float(np.abs(v).max()))
    assert not np.array_equal(split, whole)  # the order changed, so the rounding did


def test_large_scores_stay_finite():
    q, k, v = qkv(1, 40, 8, 1, scale=30.0)  # scores up to ~10^3: exp would overflow without the running max
    o, lse, _ = flash_forward_twin(q, k, v, 8, 8)
    assert np.isfinite(o).all() and np.abs(lse).max() > 200
    assert_close(o, ref.attention(q, k, v)[0], np.float32, terms=40, depth=3, scale=float(np.abs(v).max()) * 1000)


def test_lse_rebuilds_the_probabilities():
    q, k, v = qkv(1, 24, 8, 2)
    _, lse, _ = flash_forward_twin(q, k, v, 8, 8)
    s = (q[0].astype(np.float64) @ k[0].T.astype(np.float64)) / np.sqrt(8)
    p = np.exp(s - lse[0, :, None].astype(np.float64))  # what a backward pass does instead of storing P
    assert_close(p.sum(-1), np.ones(24), np.float32, terms=24, depth=3)
