"""Rotary position embedding: rotate each pair (x_i, x_{i+d/2}) of q and k by the angle pos·θ_i.

This is the "rotate half" pairing that Llama and Hugging Face use; the paper pairs
neighbours (x_2i, x_2i+1) instead, which is the same rotation with the features permuted.
"""
from __future__ import annotations

import torch


def rope_cos_sin(T: int, d: int, theta: float, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of the angles pos·θ_i, each (T, d): θ_i = theta^(-2i/d) for i < d/2, repeated twice."""
    wide = torch.promote_types(like.dtype, torch.float32)  # angles grow with pos; keep them in fp32 or more
    inv_freq = 1.0 / theta ** (torch.arange(0, d, 2, dtype=wide, device=like.device) / d)  # (d/2,)
    angles = torch.arange(T, dtype=wide, device=like.device)[:, None] * inv_freq  # (T, d/2)
    angles = torch.cat([angles, angles], dim=-1)  # (T, d): pair i and i + d/2 share an angle
    return angles.cos().to(like.dtype), angles.sin().to(like.dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """(x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin) for every pair: a 2-D rotation, no parameters."""
    return x * cos + rotate_half(x) * sin
