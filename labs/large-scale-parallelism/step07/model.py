"""The single-process reference: a small Llama-style model (RMSNorm, RoPE, GQA attention, SwiGLU).

Every parallel version in this lab is checked against this one, run in one process on the whole batch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab_size: int = 64
    block_size: int = 16
    n_embd: int = 32
    n_head: int = 4
    n_kv_head: int = 2
    n_layer: int = 2
    ffn_dim: int = 64
    norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    dropout: float = 0.0     # probability of zeroing an attention or MLP output element
    n_expert: int = 0        # > 0: every block's MLP becomes a mixture of n_expert SwiGLU experts
    top_k: int = 2           # experts per token
    capacity_factor: float = 1.0   # an expert takes at most ceil(factor * tokens * top_k / n_expert) per group
    moe_groups: tuple = (1, 1)     # (batch parts, sequence parts): routing groups; capacity is per group

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


def rope(x, positions, theta: float):
    """Rotate pairs (x[i], x[i + d/2]) of x (..., T, d) by position * theta^(-2i/d)."""
    d = x.shape[-1]
    inv_freq = 1.0 / theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d)
    angles = torch.outer(positions.float(), inv_freq)
    cos, sin = torch.cat([angles, angles], -1).cos(), torch.cat([angles, angles], -1).sin()
    x1, x2 = x.chunk(2, dim=-1)
    return x * cos + torch.cat([-x2, x1], dim=-1) * sin


def causal_attention(q, k, v):
    """softmax(q k^T / sqrt(d)) v with a causal mask; q (B, H, T, d), k and v (B, Hkv, T, d)."""
    g = q.shape[1] // k.shape[1]
    k, v = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    T = q.shape[2]
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    return F.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1) @ v


class Attention(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        hd = cfg.head_dim
        self.wq = nn.Linear(cfg.n_embd, cfg.n_head * hd, bias=False)
        self.wk = nn.Linear(cfg.n_embd, cfg.n_kv_head * hd, bias=False)
        self.wv = nn.Linear(cfg.n_embd, cfg.n_kv_head * hd, bias=False)
        self.wo = nn.Linear(cfg.n_head * hd, cfg.n_embd, bias=False)

    def forward(self, x):
        B, T, _ = x.shape
        hd = self.cfg.head_dim
        q = self.wq(x).view(B, T, -1, hd).transpose(1, 2)
        k = self.wk(x).view(B, T, -1, hd).transpose(1, 2)
        v = self.wv(x).view(B, T, -1, hd).transpose(1, 2)
        pos = torch.arange(T)
        q, k = rope(q, pos, self.cfg.rope_theta), rope(k, pos, self.cfg.rope_theta)
        y = causal_attention(q, k, v).transpose(1, 2).reshape(B, T, -1)
        return self.wo(y)


class MLP(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.w1 = nn.Linear(cfg.n_embd, cfg.ffn_dim, bias=False)
        self.w2 = nn.Linear(cfg.ffn_dim, cfg.n_embd, bias=False)
        self.w3 = nn.Linear(cfg.n_embd, cfg.ffn_dim, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


def route(router_logits, top_k: int, n_expert: int, capacity: int):
    """Top-k routing with a capacity: (expert, slot, weight, kept) for every (token, choice), token-major.

    slot is the assignment's place in its expert's queue, counted in token order; assignments with
    slot >= capacity are dropped (the token keeps only its residual for that choice).
    """
    probs = F.softmax(router_logits, dim=-1)
    top_p, top_e = probs.topk(top_k, dim=-1)                       # (N, k)
    weight = top_p / top_p.sum(dim=-1, keepdim=True)               # renormalized over the k chosen experts
    onehot = F.one_hot(top_e.flatten(), n_expert)                  # (N * k, E), token-major
    slot = ((onehot.cumsum(0) - 1) * onehot).sum(-1)               # earlier assignments to the same expert
    return top_e.flatten(), slot, weight.flatten(), slot < capacity


def capacity(tokens: int, cfg) -> int:
    return math.ceil(cfg.capacity_factor * tokens * cfg.top_k / cfg.n_expert)


class MoE(nn.Module):
    """A router picks top_k of n_expert SwiGLU experts per token; the output is their weighted sum."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.router = nn.Linear(cfg.n_embd, cfg.n_expert, bias=False)
        self.experts = nn.ModuleList(MLP(cfg) for _ in range(cfg.n_expert))
        self.dropped = []                                          # assignments dropped, one count per forward

    def forward(self, x):
        B, T, D = x.shape
        batch_parts, seq_parts = self.cfg.moe_groups
        outs, dropped = [], 0
        for g, part in enumerate(p for rows in x.chunk(batch_parts, 0) for p in rows.chunk(seq_parts, 1)):
            xt = part.reshape(-1, D)                               # one group's tokens, token-major
            expert, slot, weight, kept = route(self.router(xt), self.cfg.top_k, self.cfg.n_expert,
                                               capacity(xt.shape[0], self.cfg))
            token = torch.arange(xt.shape[0]).repeat_interleave(self.cfg.top_k)
            dropped += int((~kept).sum())
            out = torch.zeros_like(xt)
            for e in range(self.cfg.n_expert):
                sel = kept & (expert == e)
                y = self.experts[e](xt[token[sel]]) * weight[sel, None]
                out = out.index_add(0, token[sel], y)
            outs.append(out.view(part.shape))
        self.dropped.append(dropped)
        rows = [torch.cat(outs[i:i + seq_parts], dim=1) for i in range(0, len(outs), seq_parts)]
        return torch.cat(rows, dim=0)


def dropout_mask(shape, p: float, seed: int) -> torch.Tensor:
    """A keep-mask scaled by 1/(1-p), drawn from its own seeded generator: the same on every process."""
    keep = torch.rand(shape, generator=torch.Generator().manual_seed(seed)) >= p
    return keep.float() / (1.0 - p)


class SeededDropout(nn.Module):
    """Dropout whose mask depends on (site, call number) only, so a sharded run can draw the same mask."""

    def __init__(self, p: float, site: int):
        super().__init__()
        self.p, self.site, self.calls = p, site, 0

    def forward(self, x):
        if self.p == 0.0:
            return x
        self.calls += 1
        return x * dropout_mask(x.shape, self.p, 1000 * self.site + self.calls)


class Block(nn.Module):
    def __init__(self, cfg: Config, index: int = 0):
        super().__init__()
        self.attention_norm = RMSNorm(cfg.n_embd, cfg.norm_eps)
        self.attention = Attention(cfg)
        self.attention_dropout = SeededDropout(cfg.dropout, 2 * index)
        self.ffn_norm = RMSNorm(cfg.n_embd, cfg.norm_eps)
        self.feed_forward = MoE(cfg) if cfg.n_expert else MLP(cfg)
        self.ffn_dropout = SeededDropout(cfg.dropout, 2 * index + 1)

    def forward(self, x):
        x = x + self.attention_dropout(self.attention(self.attention_norm(x)))
        return x + self.ffn_dropout(self.feed_forward(self.ffn_norm(x)))


class LanguageModel(nn.Module):
    def __init__(self, cfg: Config, seed: int = 0):
        super().__init__()
        self.cfg = cfg
        torch.manual_seed(seed)
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.layers = nn.ModuleList(Block(cfg, i) for i in range(cfg.n_layer))
        self.norm = RMSNorm(cfg.n_embd, cfg.norm_eps)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.3 if "embedding" in name else 0.1)   # large enough for varied logits
            else:
                nn.init.uniform_(p, 0.5, 1.5)    # norm scales away from 1, so a wrong norm gradient shows

    def forward(self, idx, targets=None):
        x = self.token_embedding(idx)
        for layer in self.layers:
            x = layer(x)
        logits = self.lm_head(self.norm(x))
        loss = None if targets is None else F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss


def batch(cfg: Config, batch_size: int, seed: int = 1):
    """A fixed random batch of token ids and their next-token targets (the data does not matter here)."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, cfg.vocab_size, (batch_size, cfg.block_size + 1), generator=g)
    return ids[:, :-1], ids[:, 1:]
