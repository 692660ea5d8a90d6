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
