"""A compact Llama-style decoder (RMSNorm, RoPE, GQA attention, SwiGLU) with a KV cache for decoding.

The architecture is the torch-training lab's model, copied here unchanged, plus
what decoding needs: `forward(idx, cache)` appends the new keys and values to a
`KVCache` and attends over everything cached so far, so one generated token
costs one pass over the weights and the cache, not over the whole sequence.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class ModelConfig:
    vocab_size: int = 2048
    block_size: int = 128      # longest context (training windows and the cache)
    n_layer: int = 2
    n_head: int = 4
    n_kv_head: int = 2         # grouped-query attention: 2 query heads share one K/V head
    d_model: int = 128
    d_ff: int = 384            # SwiGLU hidden size, ~8/3 * d_model rounded up to a multiple of 128
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_head


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        # Normalize in fp32 even under autocast: the mean of squares loses bits in 16-bit.
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * xf.to(x.dtype)


def rope_tables(cfg: ModelConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of shape (block_size, head_dim) for the rotate-half RoPE convention."""
    inv_freq = 1.0 / cfg.rope_theta ** (torch.arange(0, cfg.head_dim, 2).float() / cfg.head_dim)
    angles = torch.outer(torch.arange(cfg.block_size).float(), inv_freq)
    angles = torch.cat([angles, angles], dim=-1)
    return angles.cos(), angles.sin()


def apply_rope(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


class KVCache:
    """Keys and values of every layer for `max_len` positions, filled as tokens arrive."""

    def __init__(self, cfg: ModelConfig, batch: int, max_len: int, dtype=torch.float32):
        shape = (cfg.n_layer, batch, cfg.n_kv_head, max_len, cfg.head_dim)
        self.k = torch.zeros(shape, dtype=dtype)
        self.v = torch.zeros(shape, dtype=dtype)
        self.length = 0  # positions already cached

    def update(self, layer: int, k, v):
        """Store k, v (B, n_kv_head, T, head_dim) after the cached positions; return all of them."""
        end = self.length + k.shape[2]
        self.k[layer, :, :, self.length:end] = k
        self.v[layer, :, :, self.length:end] = v
        return self.k[layer, :, :, :end], self.v[layer, :, :, :end]

    def advance(self, n: int) -> None:
        self.length += n

    def bytes_per_position(self) -> int:
        """Bytes one cached position takes in every layer: K and V, all KV heads."""
        n_layer, _, n_kv_head, _, head_dim = self.k.shape
        return 2 * n_layer * n_kv_head * head_dim * self.k.element_size()


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.n_head, self.n_kv_head, self.head_dim = cfg.n_head, cfg.n_kv_head, cfg.head_dim
        self.q_proj = nn.Linear(cfg.d_model, cfg.n_head * cfg.head_dim, bias=False)
        self.k_proj = nn.Linear(cfg.d_model, cfg.n_kv_head * cfg.head_dim, bias=False)
        self.v_proj = nn.Linear(cfg.d_model, cfg.n_kv_head * cfg.head_dim, bias=False)
        self.o_proj = nn.Linear(cfg.n_head * cfg.head_dim, cfg.d_model, bias=False)

    def forward(self, x, cos, sin, cache: KVCache | None = None, layer: int = 0):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.n_head, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        past = 0
        if cache is not None:
            past = cache.length
            k, v = cache.update(layer, k, v)
        if past and T > 1:
            raise ValueError("a cached forward takes either the whole prompt or one new token")
        groups = self.n_head // self.n_kv_head
        k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)
        # One new token may see every cached position: no mask. A prompt needs the causal mask.
        try:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=T > 1)
        except RuntimeError:  # torch's bf16 CPU kernel refuses ("pack_vnni2 ...") when an AMX CPU is forced
            # to its AVX2 code path (ATEN_CPU_CAPABILITY=avx2); the same attention in fp32 is the fallback.
            y = F.scaled_dot_product_attention(q.float(), k.float(), v.float(), is_causal=T > 1).to(q.dtype)
        return self.o_proj(y.transpose(1, 2).reshape(B, T, -1))


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.up_proj = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.down_proj = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x, cos, sin, cache=None, layer=0):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, cache, layer)
        return x + self.mlp(self.post_attention_layernorm(x))


class Llama(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.embed_tokens.weight  # tied: one V x D matrix reads and writes tokens
        cos, sin = rope_tables(cfg)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith(("o_proj.weight", "down_proj.weight")):
                # Residual writes scaled by 1/sqrt(2L) so the stream does not grow with depth (GPT-2).
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init_weights(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())  # the tied matrix counts once

    def new_cache(self, batch: int, max_len: int) -> KVCache:
        return KVCache(self.cfg, batch, max_len, dtype=self.embed_tokens.weight.dtype)

    def forward(self, idx, cache: KVCache | None = None):
        """Token ids (B, T) -> next-token logits (B, T, vocab_size); with a cache, T new positions."""
        T = idx.shape[1]
        pos = cache.length if cache is not None else 0
        if pos + T > self.cfg.block_size:
            raise ValueError(f"sequence length {pos + T} exceeds block_size {self.cfg.block_size}")
        x = self.embed_tokens(idx)
        cos = self.rope_cos[pos:pos + T].to(x.dtype)
        sin = self.rope_sin[pos:pos + T].to(x.dtype)
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, cache, i)
        if cache is not None:
            cache.advance(T)
        return self.lm_head(self.norm(x))
