"""A language model with one causal self-attention head: each position reads the positions before it."""
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


class CausalSelfAttention(nn.Module):
    """One attention head: softmax(q k^T / sqrt(d)) v, where position i may only look at positions j <= i."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.wq = nn.Linear(cfg.n_embd, cfg.n_embd, bias=False)
        self.wk = nn.Linear(cfg.n_embd, cfg.n_embd, bias=False)
        self.wv = nn.Linear(cfg.n_embd, cfg.n_embd, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.wq(x), self.wk(x), self.wv(x)              # (B, T, C) each
        scores = q @ k.transpose(-2, -1) / math.sqrt(C)           # (B, T, T): query i against key j
        # mask[i, j] is True where query i may see key j: the lower triangle, j <= i. It is built for
        # this input's T, not stored for block_size: real models allow 40,960 positions (1.6 GB per mask).
        mask = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        # A future key gets -inf, so softmax gives it weight exactly 0.
        scores = scores.masked_fill(~mask, float("-inf"))
        weights = F.softmax(scores, dim=-1, dtype=torch.float32).to(v.dtype)  # each row sums to 1; fp32 as HF
        return weights @ v                                        # (B, T, C)


class LanguageModel(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.position_embedding = nn.Embedding(cfg.block_size, cfg.n_embd)   # learned, one vector per position
        self.attn = CausalSelfAttention(cfg)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        # Small weights make the untrained logits nearly 0, so the first loss is close to ln V.
        for p in self.parameters():
            nn.init.normal_(p, mean=0.0, std=0.02)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        """idx (B, T) token ids -> logits (B, T, V); with targets (B, T) also the mean cross-entropy."""
        B, T = idx.shape
        positions = torch.arange(T, device=idx.device)
        x = self.token_embedding(idx) + self.position_embedding(positions)   # (B, T, D)
        x = self.attn(x)                                         # (B, T, D)
        logits = self.lm_head(x)                                 # (B, T, V)
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
