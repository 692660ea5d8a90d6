"""The softmax twins against float64 (reference, autograd), the reduction's levels and order, the kernels' resources."""
import math

import numpy as np
import pytest
import torch

import reference as ref
from dlc_shared.testing import assert_close, tolerance
from softmax import block_allreduce, softmax_backward_twin, softmax_twin, thread_partials, warp_allreduce


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


def autograd_softmax_backward(x, dy):
    """dx of sum(softmax(x) * dy) by PyTorch autograd in float64: independent of the twin's formula."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    torch.softmax(xt, dim=-1).backward(torch.tensor(dy, dtype=torch.float64))
    return xt.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows,cols", [(1, 1), (3, 31), (4, 256), (2, 1000), (5, 4099)])
def test_backward_twin_matches_autograd(rows, cols, dtype):
    rng = np.random.default_rng(rows * cols + 7)
    x, dy = (rng.standard_normal((rows, cols)) * 4).astype(dtype), rng.standard_normal((rows, cols)).astype(dtype)
    y = softmax_twin(x)  # the kernel's input: the forward's output in the same dtype
    dx = softmax_backward_twin(dy, y)
    expected = autograd_softmax_backward(x, dy)
    assert dx.dtype == dtype and (cols == 1 or np.ptp(dx) > 0)
    # dx_k = y_k (dy_k - d): y carries the forward's roundings (depth 3), d a sum over cols of |dy y| <= max |dy|,
    # then one subtraction and one product; every term is at most max|y| * 2 max|dy|
    scale = float(np.abs(y).max() * 2 * np.abs(dy).max())
    assert_close(dx, expected, dtype, terms=cols, depth=6, scale=scale)


def test_backward_rows_sum_to_zero():
    # sum_k y_k (dy_k - d) = d - d sum_k y_k = 0: softmax's outputs always sum to 1, so no gradient moves that sum
    rng = np.random.default_rng(5)
    x, dy = rng.standard_normal((4, 300)), rng.standard_normal((4, 300))
    dx = softmax_backward_twin(dy, softmax_twin(x))
    for row, g in zip(dx, dy):
        assert abs(math.fsum(row)) <= tolerance(np.float64, scale=float(np.abs(g).max()), terms=300, depth=4)


def test_backward_of_a_constant_gradient_is_zero():
    y = softmax_twin(np.random.default_rng(6).standard_normal((2, 100)))
    dx = softmax_backward_twin(np.full_like(y, 3.0), y)  # the loss 3 * sum(y) = 3 does not depend on x
    assert np.abs(dx).max() <= tolerance(np.float64, scale=3.0, terms=100, depth=4)


def test_softmax_backward_kernel_needs_one_small_array(built):
    k = built.kernel("softmax_backward_kernel")
    assert k.shared_bytes == 8 * 4  # warp_dot: one float per warp
    assert k.barriers == 1 and not k.spills and 0 < k.registers <= 32
