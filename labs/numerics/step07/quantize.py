"""int8 quantization: a scale (and a zero point) per tensor, per channel or per group of weights.

Symmetric: q = clamp(round(x / s), -127, 127) with s = amax / 127, and x ~ s * q. Affine
(asymmetric): q = clamp(round(x / s) + z, 0, 255) with s = (max - min) / 255 and an integer zero
point z, so a range like [0, 6] uses all 256 levels instead of half of them. Rounding to the
nearest level errs by at most s / 2, so the error follows the scale, and the scale follows the
largest magnitude that shares it: one outlier channel inflates a per-tensor scale for every
other channel. Per-channel (one scale per output row) and per-group (one per g consecutive
inputs of a row) scales keep the outlier's damage to its own row or group.
"""
from __future__ import annotations

import torch


def _blocks(x: torch.Tensor, granularity: str, group: int) -> torch.Tensor:
    """View a (rows, cols) tensor as (blocks, block size): one scale per block."""
    if granularity == "tensor":
        return x.reshape(1, -1)
    if granularity == "channel":
        return x
    if granularity == "group":
        if x.shape[1] % group:
            raise ValueError(f"{x.shape[1]} columns do not split into groups of {group}")
        return x.reshape(-1, group)
    raise ValueError(f"granularity must be tensor, channel or group, not {granularity!r}")


def quantize_symmetric(x: torch.Tensor, granularity: str = "tensor", group: int = 32):
    """(q int8, scale per block) with q = clamp(round(x / s), -127, 127), s = amax / 127."""
    b = _blocks(x.float(), granularity, group)
    scale = b.abs().amax(dim=1, keepdim=True) / 127
    scale = torch.where(scale == 0, torch.ones_like(scale), scale)  # an all-zero block: any scale is exact
    q = torch.clamp(torch.round(b / scale), -127, 127).to(torch.int8)
    return q.reshape(x.shape), scale


def dequantize_symmetric(q: torch.Tensor, scale: torch.Tensor, granularity: str = "tensor", group: int = 32):
    return (_blocks(q.float(), granularity, group) * scale).reshape(q.shape)


def quantize_affine(x: torch.Tensor, granularity: str = "tensor", group: int = 32):
    """(q uint8, scale, zero point) with q = clamp(round(x / s) + z, 0, 255), s = (max - min) / 255.

    The range is widened to include 0 so that 0 is exactly representable (z is an integer level)."""
    b = _blocks(x.float(), granularity, group)
    lo = torch.clamp(b.amin(dim=1, keepdim=True), max=0.0)
    hi = torch.clamp(b.amax(dim=1, keepdim=True), min=0.0)
    scale = (hi - lo) / 255
    scale = torch.where(scale == 0, torch.ones_like(scale), scale)
    zero = torch.round(-lo / scale)
    q = torch.clamp(torch.round(b / scale) + zero, 0, 255).to(torch.uint8)
    return q.reshape(x.shape), scale, zero


def dequantize_affine(q, scale, zero, granularity: str = "tensor", group: int = 32):
    return ((_blocks(q.float(), granularity, group) - zero) * scale).reshape(q.shape)


def outlier_weight(rows: int = 64, cols: int = 256, outlier_row: int = 5, factor: float = 100.0, seed: int = 0):
    """A weight matrix of N(0, 0.02) entries with one output channel `factor` times larger."""
    w = 0.02 * torch.randn(rows, cols, generator=torch.Generator().manual_seed(seed))
    w[outlier_row] *= factor
    return w
