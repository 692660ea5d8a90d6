"""The RMSNorm twins against the float64 references and autograd, and the kernels' resources."""
import numpy as np
import pytest
import torch

import reference as ref
from dlc_shared.testing import assert_close
from rmsnorm import RMS_EPS, rmsnorm_backward_twin, rmsnorm_forward_twin

SHAPES = [(1, 1), (3, 31), (4, 256), (7, 1000)]


def inputs(rows, cols, dtype=np.float32):
    rng = np.random.default_rng(rows * cols)
    x, w, dy = rng.standard_normal((rows, cols)), 1 + 0.5 * rng.standard_normal(cols), rng.standard_normal((rows, cols))
    return x.astype(dtype), w.astype(dtype), dy.astype(dtype)


@pytest.mark.parametrize("rows,cols", SHAPES)
def test_forward_twin_matches_the_reference(rows, cols):
    x, w, _ = inputs(rows, cols)
    y, rstd = rmsnorm_forward_twin(x, w)
    y_ref, rstd_ref = ref.rmsnorm(x, w, RMS_EPS)
    assert y.dtype == np.float32 and (cols == 1 or np.ptp(y) > 0)
    # the sum of squares carries sqrt(cols); rstd then y add a few roundings each
    assert_close(rstd, rstd_ref, np.float32, terms=cols, depth=2)
    assert_close(y, y_ref, np.float32, terms=cols, depth=4)


@pytest.mark.parametrize("rows,cols", SHAPES)
def test_backward_twin_matches_the_reference(rows, cols):
    x, w, dy = inputs(rows, cols)
    dx, dw = rmsnorm_backward_twin(dy, x, w, rmsnorm_forward_twin(x, w)[1])
    dx_ref, dw_ref = ref.rmsnorm_backward(x, w, dy, RMS_EPS)
    assert (cols == 1 or np.ptp(dx) > 0) and (rows * cols == 1 or np.ptp(dw) > 0)
    # dx: a difference of two terms each of size ~|g| rstd; the row sum carries sqrt(cols)
    assert_close(dx, dx_ref, np.float32, terms=cols, depth=6, scale=float(np.abs(dy * w).max() * np.abs(x).max()))
    # dw: rows products of three factors added one after another
    assert_close(dw, dw_ref, np.float32, terms=rows, depth=4, scale=float(np.abs(dy * x).sum(axis=0).max()))


def test_float64_twin_agrees_with_torch():
    x, w, _ = inputs(5, 300, np.float64)
    y, rstd = rmsnorm_forward_twin(x, w)
    yt = torch.nn.functional.rms_norm(torch.tensor(x), (300,), torch.tensor(w), eps=RMS_EPS)
    assert_close(y, yt.numpy(), np.float64, terms=300, depth=4)
    assert_close(rstd, 1 / np.sqrt((x * x).mean(axis=1) + RMS_EPS), np.float64, terms=300, depth=2)


def test_float64_twins_agree_with_autograd():
    x, w, dy = inputs(5, 300, np.float64)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    yt = torch.nn.functional.rms_norm(xt, (300,), wt, eps=RMS_EPS)
    yt.backward(torch.tensor(dy))
    y, rstd = rmsnorm_forward_twin(x, w)
    dx, dw = rmsnorm_backward_twin(dy, x, w, rstd)
    assert_close(y, yt.detach().numpy(), np.float64, terms=300, depth=4)
    assert_close(dx, xt.grad.numpy(), np.float64, terms=300, depth=6, scale=float(np.abs(dy * w).max() * np.abs(x).max()))
    assert_close(dw, wt.grad.numpy(), np.float64, terms=5, depth=4, scale=float(np.abs(dy * x).sum(axis=0).max()))


def test_dx_is_orthogonal_to_x_when_eps_is_0():
    x, w, dy = inputs(3, 64, np.float64)
    dx, _ = rmsnorm_backward_twin(dy, x, w, rmsnorm_forward_twin(x, w, eps=0.0)[1])
    for row_dx, row_x in zip(dx, x):
        assert abs(row_dx @ row_x) < 1e-12 * np.abs(row_dx).sum() * np.abs(row_x).max()  # rounding of a 64-term dot


def test_kernels_resources(built):
    for name in ("rmsnorm_forward_kernel", "rmsnorm_backward_dx_kernel"):
        k = built.kernel(name)
        assert k.shared_bytes == 8 * 4 and k.barriers == 1 and not k.spills  # one float per warp
    dw = built.kernel("rmsnorm_backward_dw_kernel")
    assert dw.shared_bytes == 0 and dw.barriers == 0 and not dw.spills
