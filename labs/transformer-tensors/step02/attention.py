"""Causal self-attention, one head: softmax(q kᵀ/√d + mask) v, with every intermediate shape asserted."""
from __future__ import annotations

import math

import torch
from torch import nn

from config import Config
from shapetrace import record, traced_linear


class SelfAttention(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        D = cfg.dim
        self.wq = nn.Linear(D, D, bias=False)  # what each token looks for
        self.wk = nn.Linear(D, D, bias=False)  # what each token offers to be found by
        self.wv = nn.Linear(D, D, bias=False)  # what each token hands over when found
        self.wo = nn.Linear(D, D, bias=False)  # back into the residual stream

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        d = D  # one head sees the whole width
        q = traced_linear("q = x Wq", self.wq, x)
        k = traced_linear("k = x Wk", self.wk, x)
        v = traced_linear("v = x Wv", self.wv, x)
        assert q.shape == k.shape == v.shape == (B, T, d)

        # Every query against every key: (B, T, d) @ (B, d, T) -> (B, T, T).
        scores = record("scores = q kᵀ/√d", q @ k.transpose(-2, -1) / math.sqrt(d), flops=2 * B * T * T * d)
        assert scores.shape == (B, T, T)
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()  # token t sees 0..t
        scores = record("scores + causal mask", scores.masked_fill(~causal, float("-inf")))
        # softmax in at least float32 even for bf16 inputs: its exp and row sums lose too much in bf16.
        wide = torch.promote_types(scores.dtype, torch.float32)
        probs = record("probs = softmax(scores)", torch.softmax(scores.to(wide), dim=-1)).to(q.dtype)
        assert probs.shape == (B, T, T)

        out = record("out = probs v", probs @ v, flops=2 * B * T * T * d)  # (B, T, T) @ (B, T, d)
        assert out.shape == (B, T, d)
        y = traced_linear("y = out Wo", self.wo, out)
        assert y.shape == (B, T, D)
        return y
