"""The softmax twin against the float64 reference, the reduction's levels and order, and the kernel's resources."""
import math

import numpy as np
import pytest

import reference as ref
from dlc_shared.testing import assert_close, tolerance
from softmax import block_allreduce, softmax_twin, thread_partials, warp_allreduce


@pytest.mark.parametrize("rows,cols", [(1, 1), (3, 31), (4, 256), (2, 1000), (5, 4099)])
def test_twin_matches_the_reference(rows, cols):
    x = (np.random.default_rng(rows * cols).standard_normal((rows, cols)) * 4).astype(np.float32)
    y = softmax_twin(x)
    assert y.dtype == np.float32 and (cols == 1 or np.ptp(y) > 0)
    # exp and 1/s each round once; the sum over cols carries sqrt(cols) rounding steps
    assert_close(y, ref.softmax(x), np.float32, terms=cols, depth=3)


def test_subtracting_the_max_keeps_large_logits_finite():
    x = np.array([[100.0, 99.0, 0.0]], dtype=np.float32)  # expf(100) overflows float32
    assert np.isnan(softmax_twin(x, subtract_max=False)).any()
    assert_close(softmax_twin(x), ref.softmax(x), np.float32, terms=3, depth=3)


def test_every_element_goes_to_exactly_one_thread():
    counts = thread_partials(np.ones((1, 1000), np.float32), np.add, 0.0)[0]
    assert counts.sum() == 1000 and counts[:232].tolist() == [4.0] * 232 and set(counts[232:]) == {3.0}


def test_the_butterfly_leaves_the_value_in_every_lane():
    v = np.random.default_rng(1).integers(-100, 100, (3, 32)).astype(np.float32)
    assert np.all(warp_allreduce(v, np.add) == v.sum(axis=1, keepdims=True))  # integers: exact in any order
    assert np.all(warp_allreduce(v, np.maximum) == v.max(axis=1, keepdims=True))


def test_block_sum_in_the_kernels_levels():
    x = np.random.default_rng(2).standard_normal((6, 256 * 5 + 17)).astype(np.float32)
    got = block_allreduce(thread_partials(x, np.add, 0.0), np.add, 0.0)
    for row, s in zip(x.astype(np.float64), got):
        # at most ceil(cols / 256) = 6 register adds, then 5 + 5 butterfly stages: depth 16
        bound = tolerance(np.float32, scale=float(np.abs(row).sum()), depth=6 + 5 + 5)
        assert abs(float(s) - math.fsum(row)) <= bound
    blocks_max = block_allreduce(thread_partials(x, np.maximum, -np.inf), np.maximum, -np.inf)
    assert np.array_equal(blocks_max, x.max(axis=1))  # max never rounds: exact in any order


def test_softmax_kernel_needs_two_small_arrays_and_no_spills(built):
    k = built.kernel("softmax_kernel")
    assert k.shared_bytes == 2 * 8 * 4  # warp_max and warp_sum: 8 floats each
    assert k.barriers == 1 and not k.spills and 0 < k.registers <= 32
