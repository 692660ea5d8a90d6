"""Position-wise feed-forward networks: every token on its own, D -> hidden -> D."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from config import Config
from shapetrace import record, traced_linear


class FFN(nn.Module):
    """The original two-layer MLP (GPT-2 style, without biases): D -> 4D -> GELU -> D."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.up = nn.Linear(cfg.dim, cfg.ffn_hidden_size, bias=False)
        self.down = nn.Linear(cfg.ffn_hidden_size, cfg.dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = traced_linear("h = x W_up", self.up, x)  # (B, T, hidden): the wide middle
        h = record("h = gelu(h)", F.gelu(h))
        return traced_linear("y = h W_down", self.down, h)  # back to (B, T, D)


class SwiGLU(nn.Module):
    """Llama's gated FFN: (SiLU(x W_gate) ⊙ x W_up) W_down. Three matrices, so hidden ≈ 8D/3 keeps 8D² weights."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.gate = nn.Linear(cfg.dim, cfg.ffn_hidden_size, bias=False)
        self.up = nn.Linear(cfg.dim, cfg.ffn_hidden_size, bias=False)
        self.down = nn.Linear(cfg.ffn_hidden_size, cfg.dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = traced_linear("g = x W_gate", self.gate, x)  # (B, T, hidden)
        u = traced_linear("u = x W_up", self.up, x)  # (B, T, hidden)
        h = record("h = silu(g) * u", F.silu(g) * u)  # the gate decides, per feature, how much of u passes
        return traced_linear("y = h W_down", self.down, h)  # back to (B, T, D)


def make_ffn(cfg: Config) -> nn.Module:
    return SwiGLU(cfg) if cfg.ffn == "swiglu" else FFN(cfg)
