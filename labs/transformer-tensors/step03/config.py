"""The model's shape settings, checked once so that every module can trust them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Config:
    vocab_size: int = 512  # V: rows of the token table
    dim: int = 64  # D: width of every token vector (the residual stream)
    max_seq_len: int = 32  # T_max: rows of the learned position table
    pos: str = "learned"  # "learned": a table added to x; "rope": q and k rotated inside attention
    rope_theta: float = 10000.0  # RoPE base: the slowest pair turns by pos·theta^(-(d-2)/d)

    def __post_init__(self):
        for name in ("vocab_size", "dim", "max_seq_len"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.pos not in ("learned", "rope"):
            raise ValueError(f"pos must be 'learned' or 'rope', got {self.pos!r}")
        if self.pos == "rope" and self.dim % 2:
            raise ValueError(f"RoPE rotates pairs of features, so dim must be even, got {self.dim}")
