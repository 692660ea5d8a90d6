"""The three RMSNorms agree with a float64 reference; the byte counts follow the ops."""
import pytest
import torch

from dlc_shared.testing import assert_close, gpu
from rmsnorm import rmsnorm_compiled, rmsnorm_naive, rmsnorm_triton, traffic

EPS = 1e-6


def reference(x, w):
    x, w = x.double(), w.double()
    return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + EPS) * w


def inputs(n, d, dtype=torch.float32, device="cpu"):
    gen = torch.Generator().manual_seed(n * 1000 + d)
    x = (3 * torch.randn(n, d, generator=gen)).to(device, dtype)
    w = (1 + 0.5 * torch.randn(d, generator=gen)).to(device, dtype)
    return x, w


@pytest.mark.parametrize("fn", [rmsnorm_naive, rmsnorm_triton], ids=["naive", "triton"])
@pytest.mark.parametrize("n,d", [(8, 64), (5, 100)])   # 100: the block is 128 wide and masked
def test_float32_matches_float64(fn, n, d):
    x, w = inputs(n, d)
    y = fn(x, w, EPS)
    assert y.dtype == x.dtype and y.shape == x.shape
    assert_close(y, reference(x, w), torch.float32, terms=d)


def test_compiled_matches_float64():
    x, w = inputs(8, 64)
    assert_close(rmsnorm_compiled(x, w, EPS), reference(x, w), torch.float32, terms=64)


def test_triton_bfloat16_rounds_once_at_the_end():
    x, w = inputs(4, 64, torch.bfloat16)
    y = rmsnorm_triton(x, w, EPS)
    assert y.dtype == torch.bfloat16
    # Inside the kernel everything is float32; the stores round to bf16: bf16 eps, one rounding of the result.
    assert_close(y, reference(x, w), torch.bfloat16, terms=1)


def test_triton_handles_leading_dimensions():
    x, w = inputs(6, 64)
    x3 = x.view(2, 3, 64)
    assert torch.equal(rmsnorm_triton(x3, w, EPS).view(6, 64), rmsnorm_triton(x, w, EPS))


def test_traffic_counts_every_round_trip():
    t = traffic(4096, 1024)
    full, row = 4096 * 1024 * 4, 4096 * 4
    # read x, write x^2; read x^2, write ms; read+write (n,1) twice; read x and r, write xn; read xn and w, write y
    assert t["naive_bytes"] == 2 * full + (full + row) + 4 * row + (2 * full + row) + (2 * full + 1024 * 4)
    assert t["fused_bytes"] == 2 * full + 1024 * 4
    assert t["flops"] == 4 * 4096 * 1024 + 3 * 4096
    assert t["naive_bytes"] / t["fused_bytes"] > 3.4   # 112 MiB against 32 MiB


@gpu
def test_triton_on_cuda_matches_float64():
    x, w = inputs(64, 1024, device="cuda")
    assert_close(rmsnorm_triton(x, w, EPS), reference(x, w), torch.float32, terms=1024)
