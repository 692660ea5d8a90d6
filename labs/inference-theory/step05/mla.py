"""Multi-head latent attention (DeepSeek-V2/V3): cache one small latent per token, not H keys and values.

Each token's keys and values come from a latent c = RMSNorm(W_dkv x) of width r
(kv_lora_rank): k_nope_h = W_uk_h c and v_h = W_uv_h c for every head h. RoPE
cannot pass through that product (it depends on the position), so a separate
d_rope-wide key k_rope = RoPE(W_kr x), shared by all heads, carries the position.
The cache holds c and k_rope: (r + d_rope) numbers per token per layer.

Two ways to compute the same attention:
- unabsorbed: rebuild k and v for every head from the cached latents, then MHA;
- absorbed: q_nope_h . (W_uk_h c) = (W_uk_h^T q_nope_h) . c, so fold W_uk into the
  query and attend in the latent space; the output sum_s p_s c_s is mapped by W_uv_h
  afterwards (and W_uv can be folded into W_o). No per-head key or value is ever built.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from decoder import rope


@dataclass(frozen=True)
class MLAShape:
    d_model: int
    n_heads: int
    kv_lora_rank: int     # r: width of the cached latent
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int


class LatentCache:
    """Per layer: the latent c (B, max_len, r) and the shared rotated key k_rope (B, max_len, d_rope)."""

    def __init__(self, s: MLAShape, batch: int, max_len: int, dtype=torch.float32):
        self.c = torch.zeros(batch, max_len, s.kv_lora_rank, dtype=dtype)
        self.k_rope = torch.zeros(batch, max_len, s.qk_rope_head_dim, dtype=dtype)
        self.length = 0

    def update(self, c, k_rope):
        end = self.length + c.shape[1]
        self.c[:, self.length:end], self.k_rope[:, self.length:end] = c, k_rope
        self.length = end
        return self.c[:, :end], self.k_rope[:, :end]

    def nbytes(self) -> int:
        return self.c.nbytes + self.k_rope.nbytes


def mla_bytes_per_token(s: MLAShape, n_layers: int, elt: int) -> int:
    return n_layers * (s.kv_lora_rank + s.qk_rope_head_dim) * elt


class MLA(nn.Module):
    def __init__(self, s: MLAShape, theta: float = 10000.0, eps: float = 1e-6):
        super().__init__()
        self.s, self.theta = s, theta
        dn, dr, dv, H, r = s.qk_nope_head_dim, s.qk_rope_head_dim, s.v_head_dim, s.n_heads, s.kv_lora_rank
        self.wq = nn.Linear(s.d_model, H * (dn + dr), bias=False)
        self.w_dkv = nn.Linear(s.d_model, r + dr, bias=False)  # the latent and k_rope in one projection
        self.kv_norm = nn.RMSNorm(r, eps=eps)
        self.w_ukv = nn.Linear(r, H * (dn + dv), bias=False)   # per head: W_uk (dn x r) over W_uv (dv x r)
        self.wo = nn.Linear(H * dv, s.d_model, bias=False)

    def project(self, x, positions, cache: LatentCache):
        """Queries split into their no-position and RoPE parts; all cached latents after this pass's are added."""
        s, (B, T, _) = self.s, x.shape
        q = self.wq(x).view(B, T, s.n_heads, -1).transpose(1, 2)
        q_nope, q_rope = q.split([s.qk_nope_head_dim, s.qk_rope_head_dim], -1)
        c, k_rope = self.w_dkv(x).split([s.kv_lora_rank, s.qk_rope_head_dim], -1)
        c, k_rope = cache.update(self.kv_norm(c), rope(k_rope, positions, self.theta))
        mask = positions[:, None] >= torch.arange(c.shape[1])[None]
        return q_nope, rope(q_rope, positions, self.theta), c, k_rope, mask

    def up_weights(self):
        s = self.s
        w = self.w_ukv.weight.view(s.n_heads, s.qk_nope_head_dim + s.v_head_dim, s.kv_lora_rank)
        return w.split([s.qk_nope_head_dim, s.v_head_dim], 1)  # W_uk (H, dn, r), W_uv (H, dv, r)

    def forward_unabsorbed(self, x, positions, cache: LatentCache):
        """Rebuild every head's key and value from the latents, then ordinary attention."""
        s, (B, T, _) = self.s, x.shape
        q_nope, q_rope, c, k_rope, mask = self.project(x, positions, cache)
        w_uk, w_uv = self.up_weights()
        k_nope = torch.einsum("hdr,bsr->bhsd", w_uk, c)
        v = torch.einsum("hdr,bsr->bhsd", w_uv, c)
        k = torch.cat([k_nope, k_rope[:, None].expand(-1, s.n_heads, -1, -1)], -1)
        out = F.scaled_dot_product_attention(torch.cat([q_nope, q_rope], -1), k, v, attn_mask=mask)
        return self.wo(out.transpose(1, 2).reshape(B, T, -1))

    def forward_absorbed(self, x, positions, cache: LatentCache):
        """Attend in the latent space: W_uk folded into the query, W_uv applied after the weighted sum."""
        s, (B, T, _) = self.s, x.shape
        q_nope, q_rope, c, k_rope, mask = self.project(x, positions, cache)
        w_uk, w_uv = self.up_weights()
        q_latent = torch.einsum("bhtd,hdr->bhtr", q_nope, w_uk)  # (W_uk_h^T q_nope_h): r wide
        scores = (torch.einsum("bhtr,bsr->bhts", q_latent, c) + torch.einsum("bhte,bse->bhts", q_rope, k_rope))
        scores = scores / (s.qk_nope_head_dim + s.qk_rope_head_dim) ** 0.5
        p = scores.masked_fill(~mask, float("-inf")).softmax(-1)
        out_latent = torch.einsum("bhts,bsr->bhtr", p, c)  # a weighted sum of latents, r wide per head
        out = torch.einsum("bhtr,hdr->bthd", out_latent, w_uv)
        return self.wo(out.reshape(B, T, -1))
