"""The lab's model: a small Llama-style transformer (RMSNorm, SwiGLU, RoPE, GQA) with plain-PyTorch attention."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab_size: int = 512
    block_size: int = 128    # the longest context the model is given (T <= block_size)
    n_embd: int = 64         # width D of every token's vector
    n_head: int = 4          # attention heads H; each works on D / H dimensions
    n_kv_head: int = 2       # key/value heads; each serves H / n_kv_head query heads (GQA)
    n_layer: int = 2         # transformer blocks
    ffn_dim: int = 0         # SwiGLU hidden width; 0 means about 8D/3, rounded up to a multiple of 16
    norm_eps: float = 1e-6   # added to the mean square in RMSNorm
    rope_theta: float = 10000.0  # RoPE base: pair i turns by position * theta^(-2i/d)

    def __post_init__(self):
        if self.ffn_dim == 0:
            # Three D x ffn_dim matrices at 8D/3 cost about what two D x 4D matrices cost.
            self.ffn_dim = 16 * math.ceil(8 * self.n_embd / 3 / 16)


class RMSNorm(nn.Module):
    """x / sqrt(mean(x^2) + eps) * weight: LayerNorm without the mean subtraction and the bias."""

    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Square and average in float32 even for bf16/fp16 inputs, as Llama does.
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return self.weight * x32.to(x.dtype)


def rope_tables(head_dim: int, max_len: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of position * frequency, each (max_len, head_dim); pair i has frequency theta^(-2i/head_dim)."""
    inv_freq = 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)   # (head_dim/2,)
    angles = torch.outer(torch.arange(max_len, dtype=torch.float32), inv_freq)               # (max_len, head_dim/2)
    angles = torch.cat([angles, angles], dim=-1)      # both halves of a pair turn by the same angle
    return angles.cos(), angles.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate every pair (x[i], x[i + d/2]) of x (..., T, d) by its angle at its position.

    The pairs are the two halves ("rotate half"), the layout Hugging Face Llama and Qwen use,
    so their q/k weights load without permuting rows.
    """
    x1, x2 = x.chunk(2, dim=-1)
    return x * cos + torch.cat([-x2, x1], dim=-1) * sin


class CausalSelfAttention(nn.Module):
    """H attention heads: softmax(q k^T / sqrt(d)) v per head, where position i may only look at positions j <= i."""

    def __init__(self, cfg: Config):
        super().__init__()
        assert cfg.n_embd % cfg.n_head == 0, "n_embd must be divisible by n_head"
        assert cfg.n_head % cfg.n_kv_head == 0, "n_head must be divisible by n_kv_head"
        self.n_head, self.head_dim = cfg.n_head, cfg.n_embd // cfg.n_head
        self.n_kv_head = cfg.n_kv_head
        self.wq = nn.Linear(cfg.n_embd, cfg.n_embd, bias=False)
        # Fewer key/value heads: K and V (and later the KV cache) shrink by n_head / n_kv_head.
        self.wk = nn.Linear(cfg.n_embd, cfg.n_kv_head * self.head_dim, bias=False)
        self.wv = nn.Linear(cfg.n_embd, cfg.n_kv_head * self.head_dim, bias=False)
        self.wo = nn.Linear(cfg.n_embd, cfg.n_embd, bias=False)   # mixes the heads' outputs after the merge
        cos, sin = rope_tables(self.head_dim, cfg.block_size, cfg.rope_theta)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        # Split: the C = H * hd features become H heads, (B, T, C) -> (B, H, T, hd).
        q = self.wq(x).view(B, T, self.n_head, self.head_dim).transpose(1, 2)
        k = self.wk(x).view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)   # (B, Hkv, T, hd)
        v = self.wv(x).view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)
        # Position enters here: q and k turn by angles proportional to their positions,
        # so q_m . k_n depends on m - n only. v is not rotated.
        q, k = apply_rope(q, self.cos[:T], self.sin[:T]), apply_rope(k, self.cos[:T], self.sin[:T])
        # Query head h uses key/value head h // (H / Hkv): copy each kv head for its group.
        k = k.repeat_interleave(self.n_head // self.n_kv_head, dim=1)               # (B, H, T, hd)
        v = v.repeat_interleave(self.n_head // self.n_kv_head, dim=1)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)   # (B, H, T, T): every head at once
        # mask[i, j] is True where query i may see key j: the lower triangle, j <= i. It is built for
        # this input's T, not stored for block_size: real models allow 40,960 positions (1.6 GB per mask).
        mask = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        # A future key gets -inf, so softmax gives it weight exactly 0.
        scores = scores.masked_fill(~mask, float("-inf"))
        weights = F.softmax(scores, dim=-1, dtype=torch.float32).to(v.dtype)  # each row sums to 1; fp32 as HF
        y = weights @ v                                           # (B, H, T, hd)
        y = y.transpose(1, 2).reshape(B, T, C)                    # merge: heads side by side again
        return self.wo(y)                                         # (B, T, C)


class MLP(nn.Module):
    """SwiGLU feed-forward network: w2(silu(w1 x) * w3 x); the w3 branch gates the w1 branch per feature."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.w1 = nn.Linear(cfg.n_embd, cfg.ffn_dim, bias=False)
        self.w2 = nn.Linear(cfg.ffn_dim, cfg.n_embd, bias=False)
        self.w3 = nn.Linear(cfg.n_embd, cfg.ffn_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Block(nn.Module):
    """Pre-norm block: x + attention(norm(x)), then x + mlp(norm(x)). The sums are the residual stream."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.attention_norm = RMSNorm(cfg.n_embd, cfg.norm_eps)
        self.attention = CausalSelfAttention(cfg)
        self.ffn_norm = RMSNorm(cfg.n_embd, cfg.norm_eps)
        self.feed_forward = MLP(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Each sublayer adds a correction to x instead of replacing it, so the gradient
        # has a direct path (through the +) from the loss to every layer.
        x = x + self.attention(self.attention_norm(x))
        x = x + self.feed_forward(self.ffn_norm(x))
        return x


class LanguageModel(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.norm = RMSNorm(cfg.n_embd, cfg.norm_eps)          # the residual stream is normalized once more at the end
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        # Small weights make the untrained logits nearly 0, so the first loss is close to ln V.
        # Norm scales (1-D) keep their initial 1.
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, mean=0.0, std=0.02)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        """idx (B, T) token ids -> logits (B, T, V); with targets (B, T) also the mean cross-entropy."""
        B, T = idx.shape
        x = self.token_embedding(idx)                            # (B, T, D); positions enter as RoPE
        for layer in self.layers:
            x = layer(x)                                         # (B, T, D) in, (B, T, D) out
        logits = self.lm_head(self.norm(x))                      # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss
