"""The RMSNorm forward twin against the float64 reference and PyTorch, and the kernel's resources."""
import numpy as np
import pytest
import torch

import reference as ref
from dlc_shared.testing import assert_close
from rmsnorm import RMS_EPS, rmsnorm_forward_twin

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


def test_float64_twin_agrees_with_torch():
    x, w, _ = inputs(5, 300, np.float64)
    y, rstd = rmsnorm_forward_twin(x, w)
    yt = torch.nn.functional.rms_norm(torch.tensor(x), (300,), torch.tensor(w), eps=RMS_EPS)
    assert_close(y, yt.numpy(), np.float64, terms=300, depth=4)
    assert_close(rstd, 1 / np.sqrt((x * x).mean(axis=1) + RMS_EPS), np.float64, terms=300, depth=2)


def test_kernels_resources(built):
    k = built.kernel("rmsnorm_forward_kernel")
    assert k.shared_bytes == 8 * 4 and k.barriers == 1 and not k.spills  # one float per warp
