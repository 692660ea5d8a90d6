"""A tiny Transformer whose attention pattern is an input: causal for AR, full for diffusion.

The caller passes `allowed` (B, T, S): which of the S keys each of the T queries may see.
With `past` (the keys and values of earlier positions, per layer) the T new positions attend
to the past positions and to each other; the forward returns the new positions' keys and values
so that the caller can keep them: a KV cache is just those tensors, concatenated.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from task import MAX_N, VOCAB


@dataclass
class Config:
    vocab_size: int = VOCAB
    max_len: int = 2 * MAX_N + 1   # prompt, separator, answer
    n_embd: int = 64
    n_head: int = 4
    n_layer: int = 2
    ffn_dim: int = 256


class Block(nn.Module):
    """Pre-norm attention and MLP, each added to the residual stream."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.n_head = cfg.n_head
        self.ln1 = nn.LayerNorm(cfg.n_embd)
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.ln2 = nn.LayerNorm(cfg.n_embd)
        self.mlp = nn.Sequential(nn.Linear(cfg.n_embd, cfg.ffn_dim), nn.ReLU(), nn.Linear(cfg.ffn_dim, cfg.n_embd))

    def forward(self, x, allowed, past=None):
        B, T, D = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(B, T, 3, self.n_head, D // self.n_head).permute(2, 0, 3, 1, 4)
        if past is not None:                      # earlier positions' keys and values come first
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed[:, None])
        x = x + self.proj(y.transpose(1, 2).reshape(B, T, D))
        x = x + self.mlp(self.ln2(x))
        return x, (k[:, :, -T:], v[:, :, -T:])


class Transformer(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.pos = nn.Embedding(cfg.max_len, cfg.n_embd)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)

    def forward(self, idx, pos, allowed, past=None):
        """idx, pos (B, T); allowed (B, T, P+T) bool; past: per layer (k, v) of P positions, or None.

        Returns the logits (B, T, V) and, per layer, the (k, v) of the T new positions."""
        x = self.tok(idx) + self.pos(pos)
        new = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, allowed, None if past is None else past[i])
            new.append(kv)
        return self.head(self.ln_f(x)), new


def causal_mask(T: int, batch: int = 1) -> torch.Tensor:
    """(batch, T, T): query t sees keys 0..t."""
    return torch.ones(T, T, dtype=torch.bool).tril().expand(batch, T, T)


def full_mask(T: int, batch: int = 1) -> torch.Tensor:
    """(batch, T, T): every query sees every key (bidirectional)."""
    return torch.ones(batch, T, T, dtype=torch.bool)


def positions(T: int, batch: int = 1) -> torch.Tensor:
    return torch.arange(T).expand(batch, T)
