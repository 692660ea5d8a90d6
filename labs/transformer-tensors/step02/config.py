"""The model's shape settings, checked once so that every module can trust them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Config:
    vocab_size: int = 512  # V: rows of the token table
    dim: int = 64  # D: width of every token vector (the residual stream)
    max_seq_len: int = 32  # T_max: rows of the learned position table

    def __post_init__(self):
        for name in ("vocab_size", "dim", "max_seq_len"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
