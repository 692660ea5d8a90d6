"""Causal multi-head self-attention: split D into H heads of d, attend in each, merge; every shape asserted.

With grouped-query attention (GQA) there are only H_kv key/value heads; each serves
H / H_kv query heads. H_kv = H is plain multi-head attention, H_kv = 1 is multi-query (MQA).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from config import Config
from rope import apply_rope, rope_cos_sin
from shapetrace import record, traced_linear


class SelfAttention(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        D, kv_width = cfg.dim, cfg.kv_heads * cfg.head_dim
        self.wq = nn.Linear(D, D, bias=False)  # what each token looks for
        self.wk = nn.Linear(D, kv_width, bias=False)  # what each token offers to be found by
        self.wv = nn.Linear(D, kv_width, bias=False)  # what each token hands over when found
        self.wo = nn.Linear(D, D, bias=False)  # back into the residual stream

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        H, d = self.cfg.n_heads, self.cfg.head_dim  # D = H·d: the width is cut into H heads
        H_kv = self.cfg.kv_heads
        q = traced_linear("q = x Wq", self.wq, x)
        k = traced_linear("k = x Wk", self.wk, x)
        v = traced_linear("v = x Wv", self.wv, x)
        assert q.shape == (B, T, D) and k.shape == v.shape == (B, T, H_kv * d)
        # split: (B, T, D) -> (B, T, H, d) -> (B, H, T, d); each head is one more batch dimension.
        q = record("q split", q.view(B, T, H, d).transpose(1, 2))
        k = record("k split", k.view(B, T, H_kv, d).transpose(1, 2))
        v = record("v split", v.view(B, T, H_kv, d).transpose(1, 2))
        assert q.shape == (B, H, T, d) and k.shape == v.shape == (B, H_kv, T, d)
        if self.cfg.pos == "rope":  # rotate q and k by their positions: q_m·k_n then depends on m - n only
            cos, sin = rope_cos_sin(T, d, self.cfg.rope_theta, q)
            assert cos.shape == sin.shape == (T, d)
            q = record("q = rope(q)", apply_rope(q, cos, sin))  # the same rotation in every head
            k = record("k = rope(k)", apply_rope(k, cos, sin))
        if H_kv != H:  # a KV cache would store only these H_kv heads; copy each to its group of queries
            k = record("k repeated", k.repeat_interleave(H // H_kv, dim=1))
            v = record("v repeated", v.repeat_interleave(H // H_kv, dim=1))
            assert k.shape == v.shape == (B, H, T, d)

        # Every query against every key, per head: (B, H, T, d) @ (B, H, d, T) -> (B, H, T, T).
        scores = record("scores = q kᵀ/√d", q @ k.transpose(-2, -1) / math.sqrt(d), flops=2 * B * H * T * T * d)
        assert scores.shape == (B, H, T, T)
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()  # token t sees 0..t
        scores = record("scores + causal mask", scores.masked_fill(~causal, float("-inf")))
        # softmax in at least float32 even for bf16 inputs: its exp and row sums lose too much in bf16.
        wide = torch.promote_types(scores.dtype, torch.float32)
        probs = record("probs = softmax(scores)", torch.softmax(scores.to(wide), dim=-1)).to(q.dtype)
        assert probs.shape == (B, H, T, T)

        out = record("out = probs v", probs @ v, flops=2 * B * H * T * T * d)  # (B, H, T, T) @ (B, H, T, d)
        assert out.shape == (B, H, T, d)
        # merge: (B, H, T, d) -> (B, T, H, d) -> (B, T, D); Wo then mixes what the heads found.
        out = record("out merged", out.transpose(1, 2).reshape(B, T, D))
        y = traced_linear("y = out Wo", self.wo, out)
        assert y.shape == (B, T, D)
        return y
