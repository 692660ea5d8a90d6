"""Token ids (B, T) -> vectors (B, T, D): a table lookup plus a learned position table (unless RoPE)."""
from __future__ import annotations

import torch
from torch import nn

from config import Config
from shapetrace import record


class Embedding(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.dim)  # (V, D): one row per token id
        # Attention treats its input as a set; this (T_max, D) table tells it where each token is.
        self.pos = nn.Embedding(cfg.max_seq_len, cfg.dim) if cfg.pos == "learned" else None

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        B, T = ids.shape
        if T > self.cfg.max_seq_len:
            raise ValueError(f"sequence length {T} exceeds max_seq_len {self.cfg.max_seq_len}")
        tok = record("tok_emb = E[ids]", self.tok(ids), params=self.tok.weight.numel())
        assert tok.shape == (B, T, self.cfg.dim)
        if self.pos is None:  # RoPE: positions enter later, as rotations of q and k
            return tok
        pos = self.pos(torch.arange(T, device=ids.device))
        record("pos_emb = P[0:T]", pos, params=self.pos.weight.numel())
        assert pos.shape == (T, self.cfg.dim)
        x = tok + pos  # (B, T, D) + (T, D): the position rows broadcast over the batch
        return record("x = tok + pos", x)
