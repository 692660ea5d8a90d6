"""A GPT-style language model: a stack of pre-norm blocks (attention + MLP) on a residual stream."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab_size: int = 2048
    block_size: int = 64     # the longest context the model is given (T <= block_size)
    n_embd: int = 64         # width D of every token's vector
    n_head: int = 4          # attention heads H; each works on D / H dimensions
    n_layer: int = 2         # transformer blocks


class CausalSelfAttention(nn.Module):
    """H attention heads: softmax(q k^T / sqrt(d)) v per head, where position i may only look at positions j <= i."""

    def __init__(self, cfg: Config):
        super().__init__()
        assert cfg.n_embd % cfg.n_head == 0, "n_embd must be divisible by n_head"
        self.n_head, self.head_dim = cfg.n_head, cfg.n_embd // cfg.n_head
        self.wq = nn.Linear(cfg.n_embd, cfg.n_embd, bias=False)
        self.wk = nn.Linear(cfg.n_embd, cfg.n_embd, bias=False)
        self.wv = nn.Linear(cfg.n_embd, cfg.n_embd, bias=False)
        self.wo = nn.Linear(cfg.n_embd, cfg.n_embd, bias=False)   # mixes the heads' outputs after the merge

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        # Split: the C = H * hd features become H heads, (B, T, C) -> (B, H, T, hd).
        q = self.wq(x).view(B, T, self.n_head, self.head_dim).transpose(1, 2)
        k = self.wk(x).view(B, T, self.n_head, self.head_dim).transpose(1, 2)
        v = self.wv(x).view(B, T, self.n_head, self.head_dim).transpose(1, 2)
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
    """Per-token feed-forward network: widen to 4D, GELU, project back to D."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.w1 = nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=False)
        self.w2 = nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.gelu(self.w1(x)))


class Block(nn.Module):
    """Pre-norm block: x + attention(norm(x)), then x + mlp(norm(x)). The sums are the residual stream."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.attention_norm = nn.LayerNorm(cfg.n_embd, bias=False)
        self.attention = CausalSelfAttention(cfg)
        self.ffn_norm = nn.LayerNorm(cfg.n_embd, bias=False)
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
        self.position_embedding = nn.Embedding(cfg.block_size, cfg.n_embd)   # learned, one vector per position
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.norm = nn.LayerNorm(cfg.n_embd, bias=False)       # the residual stream is normalized once more at the end
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        # Small weights make the untrained logits nearly 0, so the first loss is close to ln V.
        # Norm scales (1-D) keep their initial 1.
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, mean=0.0, std=0.02)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        """idx (B, T) token ids -> logits (B, T, V); with targets (B, T) also the mean cross-entropy."""
        B, T = idx.shape
        positions = torch.arange(T, device=idx.device)
        x = self.token_embedding(idx) + self.position_embedding(positions)   # (B, T, D)
        for layer in self.layers:
            x = layer(x)                                         # (B, T, D) in, (B, T, D) out
        logits = self.lm_head(self.norm(x))                      # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Append max_new_tokens tokens to idx (B, T), one at a time; temperature 0 is greedy (argmax)."""
        for _ in range(max_new_tokens):
            logits, _ = self(idx[:, -self.cfg.block_size:])      # the model never sees more than block_size
            logits = logits[:, -1, :]                             # only the last position predicts the next token
            if temperature == 0:
                next_id = logits.argmax(dim=-1, keepdim=True)
            else:
                probs = F.softmax(logits / temperature, dim=-1)
                next_id = torch.multinomial(probs, num_samples=1, generator=generator)
            idx = torch.cat([idx, next_id], dim=1)
        return idx
