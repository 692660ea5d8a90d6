"""The Llama-style decoder of labs/jax-transformer, as labs/jax-training (step 07) trains it.

Pure functions over a parameter pytree: init_params(key, cfg) builds the tree,
forward(params, tokens, cfg) returns logits. This lab does not change the model: it
changes where its arrays live (which device holds which slice) and checks that
training gives the same numbers as on one device.
"""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp


@dataclass(frozen=True)  # frozen = hashable, so jit can treat it as a static argument
class Config:
    vocab_size: int = 2048  # the project's BPE tokenizer (dlc_shared.data)
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    n_kv_heads: int = 2  # fewer key/value heads than query heads: grouped-query attention
    d_ff: int = 176
    max_seq_len: int = 128
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads


def dense(key, fan_in: int, fan_out: int):
    """A (fan_in, fan_out) weight: x @ w. Scale 1/sqrt(fan_in) keeps activations O(1)."""
    return jax.random.normal(key, (fan_in, fan_out), jnp.float32) / jnp.sqrt(fan_in)


def init_layer(key, cfg: Config) -> dict:
    # One key per weight: split, never reuse. Reusing a key would make wq == wk.
    kq, kk, kv, ko, kg, ku, kd = jax.random.split(key, 7)
    d, hd, f = cfg.d_model, cfg.head_dim, cfg.d_ff
    return {
        "attn_norm": jnp.ones((d,), jnp.float32),
        "wq": dense(kq, d, cfg.n_heads * hd),
        "wk": dense(kk, d, cfg.n_kv_heads * hd),
        "wv": dense(kv, d, cfg.n_kv_heads * hd),
        "wo": dense(ko, cfg.n_heads * hd, d),
        "mlp_norm": jnp.ones((d,), jnp.float32),
        "w_gate": dense(kg, d, f),
        "w_up": dense(ku, d, f),
        "w_down": dense(kd, f, d),
    }


def init_params(key, cfg: Config) -> dict:
    """The whole model as a pytree: {"embed", "layers": [dict, ...], "final_norm", "lm_head"}."""
    k_embed, k_head, k_layers = jax.random.split(key, 3)
    layer_keys = jax.random.split(k_layers, cfg.n_layers)
    return {
        "embed": jax.random.normal(k_embed, (cfg.vocab_size, cfg.d_model), jnp.float32),
        "layers": [init_layer(k, cfg) for k in layer_keys],
        "final_norm": jnp.ones((cfg.d_model,), jnp.float32),
        "lm_head": dense(k_head, cfg.d_model, cfg.vocab_size),
    }


def embed(params, tokens):
    """(B, T) token ids -> (B, T, D): a row lookup (gather), the same as one_hot(tokens) @ embed.

    JAX does not raise on an out-of-range id inside a jitted function: it clamps the
    index. Check ids before they reach the model (run.py does).
    """
    return params["embed"][tokens]


def lm_head(params, x):
    """(B, T, D) -> (B, T, V): one score (logit) per vocabulary entry at every position."""
    return x @ params["lm_head"]


def rope_tables(cfg: Config, positions):
    """cos and sin, each (T, head_dim), of the rotation angle position * freq_i."""
    half = cfg.head_dim // 2
    inv_freq = 1.0 / cfg.rope_theta ** (jnp.arange(half, dtype=jnp.float32) * 2 / cfg.head_dim)
    angles = positions.astype(jnp.float32)[:, None] * inv_freq[None, :]
    angles = jnp.concatenate([angles, angles], axis=-1)  # pair i with i + half (Llama's layout)
    return jnp.cos(angles), jnp.sin(angles)


def apply_rope(x, cos, sin):
    """Rotate each pair (x_i, x_{i+half}) of every head by its position's angle. x: (B, H, T, hd)."""
    cos, sin = cos.astype(x.dtype), sin.astype(x.dtype)  # float32 tables would promote bf16 x to float32
    x1, x2 = jnp.split(x, 2, axis=-1)
    return x * cos + jnp.concatenate([-x2, x1], axis=-1) * sin


def attention(p, x, cos, sin, cfg: Config):
    """Causal grouped-query self-attention: (B, T, D) -> (B, T, D)."""
    b, t, _ = x.shape
    h, kv, hd = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
    q = (x @ p["wq"]).reshape(b, t, h, hd).transpose(0, 2, 1, 3)   # (B, H, T, hd)
    k = (x @ p["wk"]).reshape(b, t, kv, hd).transpose(0, 2, 1, 3)  # (B, KV, T, hd)
    v = (x @ p["wv"]).reshape(b, t, kv, hd).transpose(0, 2, 1, 3)
    q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
    # GQA: query head j reads key/value head j // group. Grouping the query heads
    # (instead of copying k and v group times) keeps the small k, v as they are.
    group = h // kv
    q = q.reshape(b, kv, group, t, hd)
    scores = jnp.einsum("bkgtd,bksd->bkgts", q, k) / jnp.sqrt(hd)
    causal = jnp.tril(jnp.ones((t, t), bool))  # position t sees positions <= t
    # exp and the row sums in float32: bf16 keeps only 8 bits of mantissa
    weights = jax.nn.softmax(jnp.where(causal, scores, -jnp.inf).astype(jnp.float32), axis=-1).astype(v.dtype)
    out = jnp.einsum("bkgts,bksd->bkgtd", weights, v).reshape(b, h, t, hd)
    return out.transpose(0, 2, 1, 3).reshape(b, t, h * hd) @ p["wo"]


def rms_norm(x, weight, eps: float):
    """x / sqrt(mean(x^2) + eps) * weight over the last axis; no mean subtracted, no bias.

    Computed in float32 and cast back: a mean of squares in bf16 loses most of its digits.
    """
    x32 = x.astype(jnp.float32)
    y = x32 * jax.lax.rsqrt(jnp.mean(x32 * x32, axis=-1, keepdims=True) + eps)
    return (y * weight.astype(jnp.float32)).astype(x.dtype)


def mlp(p, x):
    """SwiGLU: down(silu(x @ gate) * (x @ up)); (B, T, D) -> (B, T, F) -> (B, T, D)."""
    return (jax.nn.silu(x @ p["w_gate"]) * (x @ p["w_up"])) @ p["w_down"]


def block(p, x, cos, sin, cfg: Config):
    """Pre-norm residual block: each sublayer reads a normalized copy and adds to the stream."""
    x = x + attention(p, rms_norm(x, p["attn_norm"], cfg.norm_eps), cos, sin, cfg)
    return x + mlp(p, rms_norm(x, p["mlp_norm"], cfg.norm_eps))


def forward(params, tokens, cfg: Config):
    """(B, T) ids -> (B, T, V) logits. Pure: the output depends on the arguments only."""
    x = embed(params, tokens)
    cos, sin = rope_tables(cfg, jnp.arange(tokens.shape[1]))
    for layer in params["layers"]:  # a Python loop: jit traces it once and unrolls it
        x = block(layer, x, cos, sin, cfg)
    return lm_head(params, rms_norm(x, params["final_norm"], cfg.norm_eps))


# cfg decides shapes, so it is static: a new config (or a new input shape) compiles anew.
forward_jit = jax.jit(forward, static_argnames="cfg")


def count_params(params) -> int:
    return sum(leaf.size for leaf in jax.tree_util.tree_leaves(params))
