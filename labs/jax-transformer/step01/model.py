"""A Llama-style decoder written as pure JAX functions over a parameter pytree.

Step 01: only the parameters. A pytree is any nest of dicts/lists whose leaves are
arrays; JAX transforms (jit, grad, tree_map) walk it for us. Randomness comes from
explicit PRNG keys: the same key always gives the same parameters.
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


def count_params(params) -> int:
    return sum(leaf.size for leaf in jax.tree_util.tree_leaves(params))
