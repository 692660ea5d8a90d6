"""The kernels on a GPU against PyTorch, on fresh random inputs and outputs poisoned with NaN."""
import pytest
import torch

from dlc_shared.testing import gpu


@gpu
@pytest.mark.parametrize("n", [1, 255, 257, 1_000_003])
def test_copy(n):
    from ext import ops
    src = torch.randn(n, device="cuda")
    dst = torch.full_like(src, float("nan"))
    ops().copy(src, dst)
    assert torch.equal(dst, src)


@gpu
@pytest.mark.parametrize("stride", [1, 2, 8, 33])
def test_copy_strided(stride):
    from ext import ops
    src = torch.randn(1000 * stride + 5, device="cuda")
    dst = torch.full((1000,), float("nan"), device="cuda")
    ops().copy_strided(src, dst, stride)
    assert torch.equal(dst, src[: 1000 * stride : stride])


@gpu
@pytest.mark.parametrize("shape", [(1, 1), (32, 8), (33, 70), (1000, 517)])
def test_transpose_naive(shape):
    from ext import ops
    a = torch.randn(shape, device="cuda")
    out = torch.full(shape[::-1], float("nan"), device="cuda")
    ops().transpose_naive(a, out)
    assert torch.equal(out, a.t())
