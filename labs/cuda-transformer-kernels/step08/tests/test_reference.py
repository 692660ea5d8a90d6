"""The float64 NumPy references against PyTorch's own float64 ops and autograd (an independent code path)."""
import numpy as np
import pytest
import torch

import reference as ref
from dlc_shared.testing import assert_close

RNG = np.random.default_rng(0)


def t64(a):
    return torch.tensor(a, dtype=torch.float64)


def test_transpose_moves_every_element():
    a = RNG.standard_normal((3, 5))
    out = ref.transpose(a)
    assert out.shape == (5, 3) and out.flags.c_contiguous
    assert all(out[j, i] == a[i, j] for i in range(3) for j in range(5))


@pytest.mark.parametrize("M,N,K", [(1, 1, 1), (7, 5, 33), (64, 48, 100)])
def test_gemm_and_gemv(M, N, K):
    a, b = RNG.standard_normal((M, K)), RNG.standard_normal((K, N))
    assert_close(ref.gemm(a, b), (t64(a) @ t64(b)).numpy(), np.float64, terms=K)
    assert_close(ref.gemv(a, b[:, 0]), (t64(a) @ t64(b[:, 0])).numpy(), np.float64, terms=K)


def test_softmax_matches_torch_and_ignores_a_shift():
    x = RNG.standard_normal((6, 50)) * 5
    y = ref.softmax(x)
    assert np.ptp(y) > 0.1  # varied rows, not a uniform answer
    assert_close(y, torch.softmax(t64(x), dim=-1).numpy(), np.float64, terms=50)
    # exp(1000) alone would overflow; x + 1000 is rounded at the scale of 1000, and so is the result
    assert_close(ref.softmax(x + 1000.0), y, np.float64, terms=50, scale=1000.0)
    assert_close(y.sum(axis=-1), np.ones(6), np.float64, terms=50)


def test_rmsnorm_forward_matches_torch():
    x, w = RNG.standard_normal((4, 64)), RNG.standard_normal(64)
    y, rstd = ref.rmsnorm(x, w)
    expected = torch.nn.functional.rms_norm(t64(x), (64,), t64(w), eps=ref.RMS_EPS)
    assert_close(y, expected.numpy(), np.float64, terms=64)
    assert rstd.shape == (4,)


def test_rmsnorm_backward_matches_autograd():
    x, w, dy = RNG.standard_normal((5, 32)), RNG.standard_normal(32), RNG.standard_normal((5, 32))
    xt, wt = t64(x).requires_grad_(), t64(w).requires_grad_()
    torch.nn.functional.rms_norm(xt, (32,), wt, eps=ref.RMS_EPS).backward(t64(dy))
    dx, dw = ref.rmsnorm_backward(x, w, dy)
    assert np.ptp(dx) > 0.1 and np.ptp(dw) > 0.1
    assert_close(dx, xt.grad.numpy(), np.float64, terms=32, depth=3)
    assert_close(dw, wt.grad.numpy(), np.float64, terms=5, depth=3)
