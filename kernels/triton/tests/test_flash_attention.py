"""dlc_kernels.triton.flash_attention against causal attention in float64 PyTorch."""
import math

import pytest
import torch

from dlc_kernels.triton import flash_attention
from dlc_shared.testing import assert_close, gpu


def reference(q, k, v):
    q, k, v = q.double().cpu(), k.double().cpu(), v.double().cpu()
    T = q.shape[-2]
    s = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    s = s.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
    return torch.softmax(s, -1) @ v, torch.logsumexp(s, -1)


def qkv(shape, device="cpu", dtype=torch.float32):
    gen = torch.Generator().manual_seed(sum(shape))
    return [torch.randn(shape, generator=gen).to(device, dtype) for _ in range(3)]


@pytest.mark.parametrize("shape,block", [((1, 2, 40, 16), 16), ((2, 1, 128, 32), 64)])
def test_output_and_logsumexp(shape, block):
    q, k, v = qkv(shape)
    o, lse = flash_attention(q, k, v, block, block)
    ref_o, ref_lse = reference(q, k, v)
    T, d = shape[-2:]
    assert_close(o, ref_o, torch.float32, terms=T + d)
    assert_close(lse, ref_lse, torch.float32, terms=T + d, scale=float(ref_lse.abs().max()) + 1)


def test_bad_shapes():
    q, k, v = qkv((1, 1, 16, 24))
    with pytest.raises(ValueError, match="power of two"):
        flash_attention(q, k, v)


@gpu
def test_cuda_bf16_seq_4096_head_dim_128():
    q, k, v = qkv((1, 4, 4096, 128), "cuda", torch.bfloat16)
    o, _ = flash_attention(q, k, v)
    ref = torch.nn.functional.scaled_dot_product_attention(q.float(), k.float(), v.float(), is_causal=True)
    # p rounds to bf16 before p @ v, and o once more on the store.
    assert_close(o, ref, torch.bfloat16, terms=4096 + 128)
