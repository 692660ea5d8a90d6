"""Manual attention and SDPA (every backend this machine runs) agree with a float64 reference."""
import math

import numpy as np
import pytest
import torch

from attention import attention_manual, attention_sdpa, attention_traffic, backend_table, kernel_that_ran
from dlc_shared.testing import assert_close, gpu
from model import CausalSelfAttention, Config, apply_rope


def reference(q, k, v):
    """Causal attention in float64 NumPy, one query row at a time."""
    q, k, v = (t.double().numpy() for t in (q, k, v))
    out = np.zeros_like(q)
    T, d = q.shape[-2:]
    for i in range(T):
        s = q[..., i:i + 1, :] @ np.swapaxes(k[..., :i + 1, :], -1, -2) / math.sqrt(d)   # keys 0..i only
        p = np.exp(s - s.max(-1, keepdims=True))
        out[..., i:i + 1, :] = (p / p.sum(-1, keepdims=True)) @ v[..., :i + 1, :]
    return torch.from_numpy(out)


def qkv(shape=(2, 3, 32, 16), device="cpu", dtype=torch.float32):
    gen = torch.Generator().manual_seed(0)
    return [torch.randn(shape, generator=gen).to(device, dtype) for _ in range(3)]


@pytest.mark.parametrize("fn", [attention_manual, attention_sdpa], ids=["manual", "sdpa"])
def test_attention_matches_float64(fn):
    q, k, v = qkv()
    ref = reference(q, k, v)
    assert ref[0, 0, :, 0].unique().numel() > 1                 # varied outputs, not a constant
    # terms: the longest reduction, d for the scores and T for the weighted sum.
    assert_close(fn(q, k, v), ref, torch.float32, terms=32 + 16)


def test_which_backend_ran_on_this_cpu():
    q, k, v = qkv()
    table = backend_table(q, k, v)
    assert table["math"] == "math"
    if not torch.cuda.is_available():
        assert table["(default)"] == "flash (CPU)"               # the fused CPU kernel is preferred to math
        assert table["efficient"].startswith("refused") and table["cudnn"].startswith("refused")


def test_model_attention_is_the_manual_formula():
    torch.manual_seed(0)
    cfg = Config(n_layer=1)
    att = CausalSelfAttention(cfg)
    x = torch.randn(2, 24, cfg.n_embd)
    B, T, C, hd = 2, 24, cfg.n_embd, cfg.n_embd // cfg.n_head
    q = apply_rope(att.wq(x).view(B, T, cfg.n_head, hd).transpose(1, 2), att.cos[:T], att.sin[:T])
    k = apply_rope(att.wk(x).view(B, T, cfg.n_kv_head, hd).transpose(1, 2), att.cos[:T], att.sin[:T])
    v = att.wv(x).view(B, T, cfg.n_kv_head, hd).transpose(1, 2)
    rep = cfg.n_head // cfg.n_kv_head
    y = attention_manual(q, k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)).transpose(1, 2).reshape(B, T, C)
    with torch.no_grad():
        assert_close(att(x), att.wo(y), torch.float32, terms=C + T)


def test_traffic_counts():
    t = attention_traffic(1, 1, 4, 2)
    assert t["flops"] == 2 * 2 * 4 * 4 * 2
    qkv_b, s_b = 4 * 2 * 4, 4 * 4 * 4
    assert t["naive_bytes"] == (2 * qkv_b + s_b) + 2 * s_b * 3 + (s_b + 2 * qkv_b)
    assert t["fused_bytes"] == 4 * qkv_b


@gpu
def test_sdpa_on_cuda_bf16_matches_float64():
    q, k, v = qkv((2, 4, 256, 64), "cuda", torch.bfloat16)
    print(backend_table(q, k, v))
    assert_close(attention_sdpa(q, k, v), reference(q.cpu(), k.cpu(), v.cpu()), torch.bfloat16, terms=256 + 64)
    assert kernel_that_ran(q, k, v) in {"flash", "efficient", "cudnn"}
