"""The baseline a Mamba replaces: a decoder-only Transformer whose decoding keeps a KV cache.

Layers are pre-norm attention (grouped-query, no positional encoding, like Jamba's
attention layers) and a SwiGLU MLP. The cache is allocated once per request for
max_len positions; the part that holds tokens, 2 * n_layers * n_kv_heads * head_dim
numbers per token, grows with the length. Names follow transformers' Jamba so its
weights load unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from model import RMSNorm


@dataclass(frozen=True)
class TransformerConfig:
    vocab_size: int = 256
    d_model: int = 32
    n_layers: int = 2
    n_heads: int = 4
    n_kv_heads: int = 2
    d_ff: int = 64
    eps: float = 1e-6
    tie_embeddings: bool = False

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads


class LayerKV:
    """One layer's keys and values for a batch of requests, room for max_len positions."""

    def __init__(self, cfg: TransformerConfig, batch: int, max_len: int, dtype=torch.float32):
        self.k = torch.zeros(batch, cfg.n_kv_heads, max_len, cfg.head_dim, dtype=dtype)
        self.v = torch.zeros_like(self.k)
        self.length = 0


class KVCache:
    def __init__(self, cfg: TransformerConfig, batch: int = 1, max_len: int = 4096, dtype=torch.float32):
        self.layers = [LayerKV(cfg, batch, max_len, dtype) for _ in range(cfg.n_layers)]

    def nbytes(self) -> int:
        """Bytes that hold tokens: the first `length` positions of every layer's keys and values."""
        return sum(c.k[:, :, :c.length].nbytes + c.v[:, :, :c.length].nbytes for c in self.layers)


def kv_bytes(cfg: TransformerConfig, length: int, batch: int = 1, elt: int = 4) -> int:
    return 2 * cfg.n_layers * cfg.n_kv_heads * cfg.head_dim * length * elt * batch


class Attention(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.cfg = cfg
        hd = cfg.head_dim
        self.q_proj = nn.Linear(cfg.d_model, cfg.n_heads * hd, bias=False)
        self.k_proj = nn.Linear(cfg.d_model, cfg.n_kv_heads * hd, bias=False)
        self.v_proj = nn.Linear(cfg.d_model, cfg.n_kv_heads * hd, bias=False)
        self.o_proj = nn.Linear(cfg.n_heads * hd, cfg.d_model, bias=False)

    def forward(self, x: torch.Tensor, cache: LayerKV | None = None) -> torch.Tensor:
        b, T, _ = x.shape
        heads = lambda t: t.view(b, T, -1, self.cfg.head_dim).transpose(1, 2)  # noqa: E731
        q, k, v = heads(self.q_proj(x)), heads(self.k_proj(x)), heads(self.v_proj(x))
        past = 0
        if cache is not None:  # write the new keys and values, then attend to everything written
            past = cache.length
            cache.k[:, :, past:past + T], cache.v[:, :, past:past + T] = k, v
            cache.length = past + T
            k, v = cache.k[:, :, :past + T], cache.v[:, :, :past + T]
        mask = None
        if T > 1 and past:  # new token i (at position past + i) sees positions 0 .. past + i
            mask = torch.arange(past + T)[None, :] <= (past + torch.arange(T))[:, None]
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=T > 1 and not past, enable_gqa=True)
        return self.o_proj(y.transpose(1, 2).reshape(b, T, -1))


class MLP(nn.Module):
    def __init__(self, d_model: int, d_ff: int):
        super().__init__()
        self.gate_proj = nn.Linear(d_model, d_ff, bias=False)
        self.up_proj = nn.Linear(d_model, d_ff, bias=False)
        self.down_proj = nn.Linear(d_ff, d_model, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class TransformerBlock(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.input_layernorm, self.self_attn = RMSNorm(cfg.d_model, cfg.eps), Attention(cfg)
        self.pre_ff_layernorm, self.feed_forward = RMSNorm(cfg.d_model, cfg.eps), MLP(cfg.d_model, cfg.d_ff)

    def forward(self, x, cache: LayerKV | None = None):
        x = x + self.self_attn(self.input_layernorm(x), cache)
        return x + self.feed_forward(self.pre_ff_layernorm(x))


class TransformerLM(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.layers = nn.ModuleList(TransformerBlock(cfg) for _ in range(cfg.n_layers))
        self.final_layernorm = RMSNorm(cfg.d_model, cfg.eps)
        self.lm_head = None if cfg.tie_embeddings else nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)

    def forward(self, ids: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        x = self.embed_tokens(ids)
        for i, layer in enumerate(self.layers):
            x = layer(x, None if cache is None else cache.layers[i])
        x = self.final_layernorm(x)
        return x @ self.embed_tokens.weight.T if self.lm_head is None else self.lm_head(x)

    def load_hf_state_dict(self, sd: dict) -> None:
        """JambaForCausalLM with attention in every layer: the same names under `model.`."""
        self.load_state_dict({k.removeprefix("model."): v for k, v in sd.items()}, strict=True)


@torch.no_grad()
def generate_kv(model: TransformerLM, prompt: torch.Tensor, new_tokens: int) -> tuple[torch.Tensor, KVCache]:
    """Greedy generation with a KV cache: one prefill, then one token per step."""
    cache = KVCache(model.cfg, prompt.shape[0], prompt.shape[1] + new_tokens)
    logits = model(prompt, cache)
    ids = [prompt]
    for _ in range(new_tokens):
        ids.append(logits[:, -1:].argmax(-1))
        logits = model(ids[-1], cache)
    return torch.cat(ids, dim=1), cache
