"""A Qwen3-shaped decoder with a preallocated KV cache whose size is known before it runs.

The cache holds, for every layer, keys and values of shape (batch, n_kv_heads,
max_len, head_dim): 2 * L * H_kv * d * max_len * batch elements, allocated once.
Prefill writes the prompt's positions; each decode step writes one more and
attends to everything written so far. With H_kv < H key/value heads (GQA; MQA
when H_kv = 1) the cache shrinks H/H_kv times: each group of H/H_kv query heads
attends to one shared key/value head, read once for the whole group. Parameter names follow transformers'
Qwen3ForCausalLM, so its state dict loads as is (the tests use it as the reference).
"""
from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from costs import Shape


class KVCache:
    def __init__(self, s: Shape, batch: int, max_len: int, dtype=torch.float32):
        shape = (batch, s.n_kv_heads, max_len, s.head_dim)
        self.k = [torch.zeros(shape, dtype=dtype) for _ in range(s.n_layers)]
        self.v = [torch.zeros(shape, dtype=dtype) for _ in range(s.n_layers)]
        self.max_len = max_len
        self.length = 0  # positions written so far (the same in every layer)

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor):
        """Write the new positions' keys and values; return all positions so far."""
        end = self.length + k.shape[2]
        if end > self.max_len:
            raise ValueError(f"the cache holds {self.max_len} positions; this pass needs {end}")
        self.k[layer][:, :, self.length:end] = k
        self.v[layer][:, :, self.length:end] = v
        return self.k[layer][:, :, :end], self.v[layer][:, :, :end]

    def nbytes(self) -> int:
        return sum(t.nbytes for t in self.k + self.v)


def rope(x: torch.Tensor, positions: torch.Tensor, theta: float) -> torch.Tensor:
    """Rotate pairs (i, i + d/2) of x (..., T, d) by angle position * theta^(-2i/d)."""
    d = x.shape[-1]
    inv_freq = 1.0 / theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d)
    angles = positions[:, None].float() * inv_freq[None]
    cos, sin = torch.cat([angles, angles], -1).cos().to(x.dtype), torch.cat([angles, angles], -1).sin().to(x.dtype)
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


class Attention(nn.Module):
    def __init__(self, s: Shape, eps: float, theta: float):
        super().__init__()
        self.s, self.theta = s, theta
        self.q_proj = nn.Linear(s.d_model, s.n_heads * s.head_dim, bias=False)
        self.k_proj = nn.Linear(s.d_model, s.n_kv_heads * s.head_dim, bias=False)
        self.v_proj = nn.Linear(s.d_model, s.n_kv_heads * s.head_dim, bias=False)
        self.o_proj = nn.Linear(s.n_heads * s.head_dim, s.d_model, bias=False)
        self.q_norm = nn.RMSNorm(s.head_dim, eps=eps)
        self.k_norm = nn.RMSNorm(s.head_dim, eps=eps)

    def forward(self, x, positions, cache: KVCache, layer: int):
        B, T, _ = x.shape
        s = self.s
        q = self.q_norm(self.q_proj(x).view(B, T, s.n_heads, s.head_dim)).transpose(1, 2)
        k = self.k_norm(self.k_proj(x).view(B, T, s.n_kv_heads, s.head_dim)).transpose(1, 2)
        v = self.v_proj(x).view(B, T, s.n_kv_heads, s.head_dim).transpose(1, 2)
        q, k = rope(q, positions, self.theta), rope(k, positions, self.theta)
        k, v = cache.update(layer, k, v)  # (B, H_kv, end, d): the cached positions and the new ones
        group = s.n_heads // s.n_kv_heads
        # Query heads g*j .. g*j+g-1 share kv head j: stack the group's queries as rows of one attention,
        # so each kv head is read once, never copied H/H_kv times.
        q = q.reshape(B, s.n_kv_heads, group * T, s.head_dim)
        mask = positions[:, None] >= torch.arange(k.shape[2])[None]  # new token p sees positions <= p
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask.repeat(group, 1))
        out = out.view(B, s.n_heads, T, s.head_dim)
        return self.o_proj(out.transpose(1, 2).reshape(B, T, -1))


class MLP(nn.Module):
    def __init__(self, s: Shape):
        super().__init__()
        self.gate_proj = nn.Linear(s.d_model, s.d_ff, bias=False)
        self.up_proj = nn.Linear(s.d_model, s.d_ff, bias=False)
        self.down_proj = nn.Linear(s.d_ff, s.d_model, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, s: Shape, eps: float, theta: float):
        super().__init__()
        self.self_attn = Attention(s, eps, theta)
        self.mlp = MLP(s)
        self.input_layernorm = nn.RMSNorm(s.d_model, eps=eps)
        self.post_attention_layernorm = nn.RMSNorm(s.d_model, eps=eps)

    def forward(self, x, positions, cache, layer):
        x = x + self.self_attn(self.input_layernorm(x), positions, cache, layer)
        return x + self.mlp(self.post_attention_layernorm(x))


class Body(nn.Module):
    def __init__(self, s: Shape, eps: float, theta: float):
        super().__init__()
        self.embed_tokens = nn.Embedding(s.vocab, s.d_model)
        self.layers = nn.ModuleList(Layer(s, eps, theta) for _ in range(s.n_layers))
        self.norm = nn.RMSNorm(s.d_model, eps=eps)


class Decoder(nn.Module):
    def __init__(self, s: Shape, eps: float = 1e-6, theta: float = 10000.0):
        super().__init__()
        self.shape = s
        self.model = Body(s, eps, theta)
        self.lm_head = nn.Linear(s.d_model, s.vocab, bias=False)
        if s.tied:
            self.lm_head.weight = self.model.embed_tokens.weight

    @classmethod
    def from_hf(cls, hf_model) -> "Decoder":
        cfg = hf_model.config
        model = cls(Shape.from_hf(cfg), cfg.rms_norm_eps, cfg.rope_parameters["rope_theta"])
        model.load_state_dict(hf_model.state_dict())
        return model.to(hf_model.dtype).eval()

    def to_mha(self) -> "Decoder":
        """The same model with H key/value heads: each kv head's weights repeated for its group."""
        s = self.shape
        mha = Decoder(replace(s, n_kv_heads=s.n_heads), self.model.norm.eps, self.model.layers[0].self_attn.theta)
        state = dict(self.state_dict())
        for name, w in self.state_dict().items():
            if name.endswith(("k_proj.weight", "v_proj.weight")):
                heads = w.view(s.n_kv_heads, s.head_dim, s.d_model)
                state[name] = heads.repeat_interleave(s.n_heads // s.n_kv_heads, 0).reshape(-1, s.d_model)
        mha.load_state_dict(state)
        return mha.to(self.lm_head.weight.dtype).eval()

    def new_cache(self, batch: int, max_len: int) -> KVCache:
        return KVCache(self.shape, batch, max_len, self.lm_head.weight.dtype)

    def forward(self, idx: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Logits for the new tokens idx (B, T), which continue the cache at position cache.length."""
        positions = torch.arange(cache.length, cache.length + idx.shape[1])
        x = self.model.embed_tokens(idx)
        for i, layer in enumerate(self.model.layers):
            x = layer(x, positions, cache, i)
        cache.length += idx.shape[1]
        return self.lm_head(self.model.norm(x))
