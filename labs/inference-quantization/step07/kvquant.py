"""A quantized KV cache: keys and values stored as int8 or fp8 (e4m3) with one scale per token and head.

Every decode step reads the whole cache, so at long contexts its bytes rival the
weights'. Each cached vector k[b, h, t, :] (head_dim values) is stored as codes
plus one fp32 scale: amax/127 for int8, amax/448 (e4m3's largest finite value) for fp8.
Attention reads the dequantized values.
"""
from __future__ import annotations

import torch

from model import ModelConfig

KV_FORMATS = {"int8": (torch.int8, 127.0), "fp8": (torch.float8_e4m3fn, 448.0)}


def quantize_kv(x: torch.Tensor, fmt: str) -> tuple[torch.Tensor, torch.Tensor]:
    """x (..., head_dim) -> codes (..., head_dim) and scales (..., 1): one scale per vector."""
    dtype, top = KV_FORMATS[fmt]
    scale = x.float().abs().amax(dim=-1, keepdim=True).clamp(min=1e-12) / top
    y = x.float() / scale
    codes = torch.round(y).clamp(-127, 127).to(dtype) if fmt == "int8" else y.clamp(-top, top).to(dtype)
    return codes, scale


def dequantize_kv(codes: torch.Tensor, scale: torch.Tensor, dtype=torch.float32) -> torch.Tensor:
    return (codes.float() * scale).to(dtype)


class QuantKVCache:
    """The KVCache interface (update, advance, length, bytes_per_position) over quantized storage."""

    def __init__(self, cfg: ModelConfig, batch: int, max_len: int, fmt: str = "int8", dtype=torch.float32):
        if fmt not in KV_FORMATS:
            raise ValueError(f"unknown KV format {fmt!r}; choose from {', '.join(KV_FORMATS)}")
        shape = (cfg.n_layer, batch, cfg.n_kv_head, max_len, cfg.head_dim)
        self.fmt, self.dtype = fmt, dtype
        self.k = torch.zeros(shape, dtype=KV_FORMATS[fmt][0])
        self.v = torch.zeros(shape, dtype=KV_FORMATS[fmt][0])
        self.k_scale = torch.zeros(shape[:-1] + (1,))
        self.v_scale = torch.zeros(shape[:-1] + (1,))
        self.length = 0

    def update(self, layer: int, k, v):
        end = self.length + k.shape[2]
        for codes, scales, x in ((self.k, self.k_scale, k), (self.v, self.v_scale, v)):
            c, s = quantize_kv(x, self.fmt)
            codes[layer, :, :, self.length:end] = c
            scales[layer, :, :, self.length:end] = s
        return (dequantize_kv(self.k[layer, :, :, :end], self.k_scale[layer, :, :, :end], self.dtype),
                dequantize_kv(self.v[layer, :, :, :end], self.v_scale[layer, :, :, :end], self.dtype))

    def advance(self, n: int) -> None:
        self.length += n

    def bytes_per_position(self) -> int:
        """Codes (one byte per value) plus one fp32 scale per head, for K and V in every layer."""
        n_layer, _, n_kv_head, _, head_dim = self.k.shape
        return 2 * n_layer * n_kv_head * (head_dim * self.k.element_size() + self.k_scale.element_size())


def kv_cache_factory(fmt: str):
    """new_cache(model, batch, length) for perplexity() and decode_seconds()."""
    def new_cache(model, batch, length):
        return QuantKVCache(model.cfg, batch, length, fmt, dtype=model.embed_tokens.weight.dtype)
    return new_cache
