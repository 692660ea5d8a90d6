"""dlc_kernels.triton.rmsnorm against a float64 PyTorch reference."""
import pytest
import torch

from dlc_kernels.triton import rmsnorm
from dlc_shared.testing import assert_close, gpu


def reference(x, w, eps=1e-6):
    x, w = x.double(), w.double()
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w


def inputs(shape, device="cpu", dtype=torch.float32):
    gen = torch.Generator().manual_seed(sum(shape))
    return (3 * torch.randn(shape, generator=gen)).to(device, dtype), \
        (1 + torch.randn(shape[-1:], generator=gen)).to(device, dtype)


@pytest.mark.parametrize("shape", [(8, 64), (2, 3, 100)])
def test_float32(shape):
    x, w = inputs(shape)
    y = rmsnorm(x, w)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert_close(y, reference(x, w), torch.float32, terms=shape[-1])


def test_bfloat16_rounds_once():
    x, w = inputs((4, 64), dtype=torch.bfloat16)
    assert_close(rmsnorm(x, w), reference(x, w), torch.bfloat16)   # float32 inside, one rounding on the store


def test_weight_shape_is_checked():
    x, w = inputs((4, 64))
    with pytest.raises(ValueError, match="weight shape"):
        rmsnorm(x, w[:32])


@gpu
def test_cuda():
    x, w = inputs((256, 4096), "cuda")
    assert_close(rmsnorm(x, w), reference(x, w), torch.float32, terms=4096)
