"""A decoder-only language model: embedding, N pre-norm blocks on a residual stream, final norm, LM head."""
from __future__ import annotations

import torch
from torch import nn

from attention import SelfAttention
from config import Config
from embedding import Embedding
from ffn import make_ffn
from shapetrace import record, scope


class RMSNorm(nn.Module):
    """x / sqrt(mean(x²) + eps) · g: rescale each token vector to unit RMS, no mean subtracted, no bias."""

    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))  # g: a learned gain per feature

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        wide = x.to(torch.promote_types(x.dtype, torch.float32))  # squares of bf16 values need fp32 sums
        normed = wide * torch.rsqrt(wide.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * normed.to(x.dtype)


class Block(nn.Module):
    """x + attn(norm(x)), then x + ffn(norm(x)): each sublayer reads the stream and adds to it."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.attn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.attn = SelfAttention(cfg)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.ffn = make_ffn(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        D = x.shape[-1]
        h = record("attn_norm(x)", self.attn_norm(x), params=D)  # pre-norm: the stream itself stays raw
        with scope("attn"):
            a = self.attn(h)
        x = record("x = x + attn", x + a)  # (B, T, D) in, (B, T, D) out: the residual stream
        h = record("ffn_norm(x)", self.ffn_norm(x), params=D)
        with scope("ffn"):
            f = self.ffn(h)
        return record("x = x + ffn", x + f)


class TinyLM(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.embed = Embedding(cfg)
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.lm_head = nn.Linear(cfg.dim, cfg.vocab_size, bias=False)  # (V, D): one score row per token
        if cfg.tie_embeddings:  # reuse the token table: the score of token v is x · E[v]
            self.lm_head.weight = self.embed.tok.weight

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        B, T = ids.shape
        D, V = self.cfg.dim, self.cfg.vocab_size
        with scope("embed"):
            x = self.embed(ids)
        for i, layer in enumerate(self.layers):
            with scope(f"layers.{i}"):
                x = layer(x)
            assert x.shape == (B, T, D)  # every layer keeps the stream's shape
        x = record("norm(x)", self.norm(x), params=D)
        logits = self.lm_head(x)  # (B, T, D) @ (D, V): a score for every token of the vocabulary
        assert logits.shape == (B, T, V)
        return record("logits = x W_headᵀ", logits, params=0 if self.cfg.tie_embeddings else V * D,
                      flops=2 * B * T * D * V)
