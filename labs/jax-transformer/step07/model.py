"""A Llama-style decoder written as pure JAX functions over a parameter pytree.

Step 01: only the parameters. A pytree is any nest of dicts/lists whose leaves are
arrays; JAX transforms (jit, grad, tree_map) walk it for us. Randomness comes from
explicit PRNG keys: the same key always gives the same parameters.
Step 02: the two ends of the model, token ids -> vectors -> logits.
Step 03: causal multi-head attention with grouped-query heads and rotary positions.
Step 04: the other two pieces of a block, RMSNorm and the SwiGLU MLP.
Step 05: blocks stacked into the whole model, one pure function compiled by jax.jit.
Step 06: generation with a KV cache, itself a pytree passed in and returned.
"""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp


@dataclass(frozen=True)  # frozen = hashable, so jit can treat it as a static argument
class Config:
    vocab_size: int = 256
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
    x1, x2 = jnp.split(x, 2, axis=-1)
    return x * cos + jnp.concatenate([-x2, x1], axis=-1) * sin


def attention(p, x, cos, sin, cfg: Config, cache=None, pos=0):
    """Causal grouped-query self-attention: (B, T, D) -> (B, T, D), and the updated cache.

    With a cache ({"k", "v"}: (B, KV, max_seq_len, hd)) the new keys and values are
    written at positions pos..pos+T-1 and the queries attend to everything cached.
    """
    b, t, _ = x.shape
    h, kv, hd = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
    q = (x @ p["wq"]).reshape(b, t, h, hd).transpose(0, 2, 1, 3)   # (B, H, T, hd)
    k = (x @ p["wk"]).reshape(b, t, kv, hd).transpose(0, 2, 1, 3)  # (B, KV, T, hd)
    v = (x @ p["wv"]).reshape(b, t, kv, hd).transpose(0, 2, 1, 3)
    q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
    if cache is not None:  # a pure update: a new cache comes back, the old one is untouched
        k = jax.lax.dynamic_update_slice(cache["k"], k, (0, 0, pos, 0))
        v = jax.lax.dynamic_update_slice(cache["v"], v, (0, 0, pos, 0))
        cache = {"k": k, "v": v}
    # GQA: query head j reads key/value head j // group. Grouping the query heads
    # (instead of copying k and v group times) keeps the small k, v as they are.
    group = h // kv
    q = q.reshape(b, kv, group, t, hd)
    scores = jnp.einsum("bkgtd,bksd->bkgts", q, k) / jnp.sqrt(hd)
    # query i sits at position pos + i and sees keys at positions <= its own; this also
    # hides the cache slots not written yet
    causal = jnp.arange(k.shape[2])[None, :] <= (pos + jnp.arange(t))[:, None]
    weights = jax.nn.softmax(jnp.where(causal, scores, -jnp.inf), axis=-1)
    out = jnp.einsum("bkgts,bksd->bkgtd", weights, v).reshape(b, h, t, hd)
    return out.transpose(0, 2, 1, 3).reshape(b, t, h * hd) @ p["wo"], cache


def rms_norm(x, weight, eps: float):
    """x / sqrt(mean(x^2) + eps) * weight over the last axis; no mean subtracted, no bias."""
    return x * jax.lax.rsqrt(jnp.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def mlp(p, x):
    """SwiGLU: down(silu(x @ gate) * (x @ up)); (B, T, D) -> (B, T, F) -> (B, T, D)."""
    return (jax.nn.silu(x @ p["w_gate"]) * (x @ p["w_up"])) @ p["w_down"]


def block(p, x, cos, sin, cfg: Config, cache=None, pos=0):
    """Pre-norm residual block: each sublayer reads a normalized copy and adds to the stream."""
    a, cache = attention(p, rms_norm(x, p["attn_norm"], cfg.norm_eps), cos, sin, cfg, cache, pos)
    x = x + a
    return x + mlp(p, rms_norm(x, p["mlp_norm"], cfg.norm_eps)), cache


def forward(params, tokens, cfg: Config, caches=None, pos=0):
    """(B, T) ids at positions pos.. -> (B, T, V) logits and the updated caches (one per layer)."""
    x = embed(params, tokens)
    cos, sin = rope_tables(cfg, pos + jnp.arange(tokens.shape[1]))
    new_caches = []
    for i, layer in enumerate(params["layers"]):  # a Python loop: jit traces it once and unrolls it
        x, cache = block(layer, x, cos, sin, cfg, None if caches is None else caches[i], pos)
        new_caches.append(cache)
    logits = lm_head(params, rms_norm(x, params["final_norm"], cfg.norm_eps))
    return logits, (None if caches is None else new_caches)


# cfg decides shapes, so it is static: a new config (or a new input shape) compiles anew.
forward_jit = jax.jit(forward, static_argnames="cfg")


def init_cache(cfg: Config, batch: int) -> list[dict]:
    """Empty K and V buffers for every layer: 2 * layers * B * KV * max_seq_len * hd floats."""
    shape = (batch, cfg.n_kv_heads, cfg.max_seq_len, cfg.head_dim)
    return [{"k": jnp.zeros(shape, jnp.float32), "v": jnp.zeros(shape, jnp.float32)}
            for _ in range(cfg.n_layers)]


def generate(params, prompt, n_new: int, cfg: Config, use_cache: bool = True):
    """Greedy decoding: (B, T) prompt -> (B, T + n_new) tokens.

    With the cache, the prompt is processed once (prefill) and each new token is one
    position (decode). Without it, every step recomputes the whole sequence, held in a
    fixed max_seq_len buffer so that jit compiles only once (causality makes the padding
    after the last real token invisible).
    """
    b, t = prompt.shape
    if t + n_new > cfg.max_seq_len:
        raise ValueError(f"prompt + new tokens = {t + n_new} > max_seq_len {cfg.max_seq_len}")
    new = []
    if use_cache:
        logits, caches = forward_jit(params, prompt, cfg=cfg, caches=init_cache(cfg, b), pos=jnp.int32(0))
        for i in range(n_new):
            new.append(jnp.argmax(logits[:, -1], axis=-1))
            if i + 1 < n_new:  # pos is traced, not static: every decode step reuses one program
                logits, caches = forward_jit(params, new[-1][:, None], cfg=cfg, caches=caches,
                                             pos=jnp.int32(t + i))
    else:
        buf = jnp.zeros((b, cfg.max_seq_len), jnp.int32).at[:, :t].set(prompt)
        for i in range(n_new):
            logits, _ = forward_jit(params, buf, cfg=cfg)
            new.append(jnp.argmax(logits[:, t + i - 1], axis=-1))
            buf = buf.at[:, t + i].set(new[-1])
    return jnp.concatenate([prompt, jnp.stack(new, axis=1).astype(prompt.dtype)], axis=1)


def count_params(params) -> int:
    return sum(leaf.size for leaf in jax.tree_util.tree_leaves(params))
