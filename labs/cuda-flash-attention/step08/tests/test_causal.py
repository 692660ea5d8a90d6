"""Causal masking: the twin against the float64 reference, the tiles it skips, and the future it ignores."""
import numpy as np
import pytest

import reference as ref
from dlc_shared.testing import assert_close
from flash import causal_tiles, flash_forward_twin


def qkv(heads, n, d, seed):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((heads, n, d)).astype(np.float32) for _ in range(3))


@pytest.mark.parametrize("heads,n,d,br,bc", [(1, 1, 4, 4, 4), (2, 33, 8, 8, 8), (1, 64, 16, 16, 16),
                                             (2, 50, 8, 16, 8), (1, 40, 4, 8, 16)])
def test_causal_twin_matches_the_reference(heads, n, d, br, bc):
    q, k, v = qkv(heads, n, d, n + d)
    o, lse, io = flash_forward_twin(q, k, v, br, bc, causal=True)
    o_ref, lse_ref = ref.attention(q, k, v, causal=True)
    assert np.isfinite(o).all() and (n == 1 or np.ptp(o) > 0.1)
    assert_close(o, o_ref, np.float32, terms=max(n, d), depth=3, scale=float(np.abs(v).max()))
    assert_close(lse, lse_ref, np.float32, terms=max(n, d), depth=3, scale=float(np.abs(lse_ref).max()))
    assert io["tiles"] == heads * causal_tiles(n, br, bc)
    assert np.array_equal(o[:, 0], v[:, 0])  # query 0 sees key 0 alone: weight exactly 1


def test_the_future_does_not_change_the_past():
    q, k, v = qkv(1, 48, 8, 7)
    o, _, _ = flash_forward_twin(q, k, v, 16, 16, causal=True)
    k2, v2 = k.copy(), v.copy()
    k2[:, 30:], v2[:, 30:] = 100.0, -100.0
    o2, _, _ = flash_forward_twin(q, k2, v2, 16, 16, causal=True)
    assert np.array_equal(o[:, :30], o2[:, :30]) and not np.array_equal(o[:, 30:], o2[:, 30:])


@pytest.mark.parametrize("t", [1, 4, 16, 128])
def test_about_half_the_tiles_are_visited(t):
    # n = T blocks of B: block i visits i + 1 tiles, T (T + 1) / 2 of T^2 in all
    assert causal_tiles(t * 16, 16, 16) == t * (t + 1) // 2
    frac = causal_tiles(t * 16, 16, 16) / t**2
    assert frac == (t + 1) / (2 * t) and (t < 128 or abs(frac - 0.5) < 0.004)


def test_skipped_tiles_are_never_loaded():
    q, k, v = qkv(1, 64, 8, 3)
    _, _, full = flash_forward_twin(q, k, v, 16, 16)
    _, _, causal = flash_forward_twin(q, k, v, 16, 16, causal=True)
    assert (full["tiles"], causal["tiles"]) == (16, 10)
    assert full["reads"] - causal["reads"] == 6 * 2 * 16 * 8  # six K and V tiles of 16 x 8
