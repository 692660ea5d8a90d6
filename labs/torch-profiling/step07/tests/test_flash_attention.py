"""The Triton FlashAttention forward equals causal attention in float64 (the interpreter on a CPU)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlc_shared.testing import assert_close, gpu
from flash_attention import flash_attention, flash_traffic


def reference(q, k, v):
    """Causal attention and each row's logsumexp in float64 NumPy."""
    q, k, v = (t.double().cpu().numpy() for t in (q, k, v))
    T, d = q.shape[-2:]
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(d)
    s = np.where(np.tril(np.ones((T, T), dtype=bool)), s, -np.inf)
    m = s.max(-1, keepdims=True)
    e = np.exp(s - m)
    lse = (m + np.log(e.sum(-1, keepdims=True)))[..., 0]
    return torch.from_numpy(e / e.sum(-1, keepdims=True) @ v), torch.from_numpy(lse)


def qkv(shape, device="cpu", dtype=torch.float32):
    gen = torch.Generator().manual_seed(sum(shape))
    return [torch.randn(shape, generator=gen).to(device, dtype) for _ in range(3)]


@pytest.mark.parametrize("shape,block", [((1, 2, 40, 16), 16),    # T not a multiple of the block: masked tiles
                                         ((2, 1, 128, 32), 64)])  # two query blocks, the diagonal masked
def test_output_and_logsumexp_match_float64(shape, block):
    q, k, v = qkv(shape)
    o, lse = flash_attention(q, k, v, block, block)
    ref_o, ref_lse = reference(q, k, v)
    assert ref_o[0, 0, :, 0].unique().numel() > 1
    T, d = shape[-2:]
    assert_close(o, ref_o, torch.float32, terms=T + d)
    # lse = m + log(l): l sums up to T terms, log turns its relative error into an absolute one of size 1.
    assert_close(lse, ref_lse, torch.float32, terms=T + d, scale=float(ref_lse.abs().max()) + 1)
    assert_close(o, F.scaled_dot_product_attention(q, k, v, is_causal=True), torch.float32, terms=T + d)


def test_bad_shapes_are_refused():
    q, k, v = qkv((1, 1, 16, 16))
    with pytest.raises(ValueError, match="one shape"):
        flash_attention(q, k[..., :8, :], v)
    q, k, v = qkv((1, 1, 16, 24))
    with pytest.raises(ValueError, match="power of two"):
        flash_attention(q, k, v)


def test_traffic_counts_the_causal_tiles():
    t = flash_traffic(1, 1, 256, 64, block_m=64)                 # 4 query blocks: 1 + 2 + 3 + 4 = 10 tiles
    assert t["flops"] == 2 * 2 * 10 * 64 * 64 * 64
    tile = 64 * 64 * 2
    assert t["bytes"] == 4 * tile + 2 * 10 * tile + 4 * tile + 256 * 4


@gpu
def test_flash_on_cuda_bf16_matches_float64():
    q, k, v = qkv((2, 4, 1024, 128), "cuda", torch.bfloat16)
    o, lse = flash_attention(q, k, v)
    ref_o, _ = reference(q, k, v)
    # p is rounded to bf16 before p @ v, the output once more on the store.
    assert_close(o, ref_o, torch.bfloat16, terms=1024 + 128)
