"""Online softmax: the running pair equals max and sum, the merge rule's algebra, and the kernel twin."""
import math

import numpy as np
import pytest

import reference as ref
from dlc_shared.testing import assert_close, tolerance
from naive import softmax_rows_twin
from online import merge, online_softmax_twin, running_stats, softmax_row_bytes


@pytest.mark.parametrize("rows,n", [(1, 1), (3, 31), (4, 64), (2, 1000)])
def test_twin_matches_the_reference_and_the_three_pass_softmax(rows, n):
    x = (np.random.default_rng(rows * n).standard_normal((rows, n)) * 4).astype(np.float32)
    y = online_softmax_twin(x)
    assert y.dtype == np.float32 and (n == 1 or np.ptp(y) > 0)
    # each l is rescaled at most once per element it sees: the sum's depth grows like a plain sum's
    assert_close(y, ref.softmax(x), np.float32, terms=n, depth=3)
    assert_close(y, softmax_rows_twin(x), np.float32, terms=n, depth=6)  # both twins within their bounds


def test_running_pair_is_the_max_and_the_shifted_sum():
    x = np.random.default_rng(0).standard_normal((5, 200)) * 3
    m, l = running_stats(x)
    assert np.array_equal(m, x.max(-1))  # max never rounds
    for row, mi, li in zip(x, m, l):
        exact = math.fsum(np.exp(row - mi))
        # 200 updates, each a rescale and an add: depth 2 per element at the scale of the sum
        assert abs(li - exact) <= tolerance(np.float64, exact, terms=200, depth=2)


@pytest.mark.parametrize("cut", [1, 17, 100, 199])
def test_a_row_cut_anywhere_merges_to_the_whole(cut):
    x = np.random.default_rng(cut).standard_normal((3, 200)) * 5
    whole = running_stats(x)
    m, l = merge(*running_stats(x[:, :cut]), *running_stats(x[:, cut:]))
    assert np.array_equal(m, whole[0])
    assert_close(l, whole[1], np.float64, terms=200, depth=2)
    # merge is symmetric: the pieces can come in either order
    assert np.array_equal(merge(*running_stats(x[:, cut:]), *running_stats(x[:, :cut]))[0], m)


def test_the_rescale_algebra_in_exact_powers_of_two():
    # e^(m - m') with m - m' = -ln 2 halves the sum: pairs (ln 2, 1) and (0, 1) merge to (ln 2, 1.5)
    m, l = merge(np.array(np.log(2.0)), np.array(1.0), np.array(0.0), np.array(1.0))
    assert float(m) == np.log(2.0) and abs(float(l) - 1.5) < 1e-15


def test_empty_lanes_stay_empty_and_large_logits_stay_finite():
    m, l = merge(np.array(-np.inf), np.array(0.0), np.array(-np.inf), np.array(0.0))
    assert m == -np.inf and l == 0.0  # not NaN: rows shorter than 32 leave lanes empty
    x = np.array([[1000.0, 999.0, -1000.0]], dtype=np.float32)
    assert_close(online_softmax_twin(x), ref.softmax(x), np.float32, terms=3, depth=3)


def test_one_pass_fewer_over_the_row():
    assert softmax_row_bytes(4096, 4096, reads=3) == 256 * 2**20
    assert softmax_row_bytes(4096, 4096, reads=2) == 192 * 2**20
