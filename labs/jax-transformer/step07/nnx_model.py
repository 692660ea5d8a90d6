"""The same Llama-style model as Flax NNX modules: objects that own their parameters.

model.py passes a parameter pytree into pure functions. NNX keeps each parameter on
the module that uses it (nnx.Param inside nnx.Linear, ...) and calls look like
PyTorch: model(tokens). nnx.split turns the object back into (graphdef, state),
where state is a pytree, so jax.jit and jax.grad still see plain arrays.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from model import Config, apply_rope, rope_tables


class Attention(nnx.Module):
    def __init__(self, cfg: Config, rngs: nnx.Rngs):
        self.cfg = cfg  # a frozen dataclass: NNX keeps it as static (non-array) data
        d, hd = cfg.d_model, cfg.head_dim
        self.wq = nnx.Linear(d, cfg.n_heads * hd, use_bias=False, rngs=rngs)
        self.wk = nnx.Linear(d, cfg.n_kv_heads * hd, use_bias=False, rngs=rngs)
        self.wv = nnx.Linear(d, cfg.n_kv_heads * hd, use_bias=False, rngs=rngs)
        self.wo = nnx.Linear(cfg.n_heads * hd, d, use_bias=False, rngs=rngs)

    def __call__(self, x, cos, sin):
        cfg = self.cfg
        b, t, _ = x.shape
        h, kv, hd = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        q = self.wq(x).reshape(b, t, h, hd).transpose(0, 2, 1, 3)
        k = self.wk(x).reshape(b, t, kv, hd).transpose(0, 2, 1, 3)
        v = self.wv(x).reshape(b, t, kv, hd).transpose(0, 2, 1, 3)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        q = q.reshape(b, kv, h // kv, t, hd)
        scores = jnp.einsum("bkgtd,bksd->bkgts", q, k) / jnp.sqrt(hd)
        causal = jnp.tril(jnp.ones((t, t), bool))
        weights = jax.nn.softmax(jnp.where(causal, scores, -jnp.inf), axis=-1)
        out = jnp.einsum("bkgts,bksd->bkgtd", weights, v).reshape(b, h, t, hd)
        return self.wo(out.transpose(0, 2, 1, 3).reshape(b, t, h * hd))


class MLP(nnx.Module):
    def __init__(self, cfg: Config, rngs: nnx.Rngs):
        self.w_gate = nnx.Linear(cfg.d_model, cfg.d_ff, use_bias=False, rngs=rngs)
        self.w_up = nnx.Linear(cfg.d_model, cfg.d_ff, use_bias=False, rngs=rngs)
        self.w_down = nnx.Linear(cfg.d_ff, cfg.d_model, use_bias=False, rngs=rngs)

    def __call__(self, x):
        return self.w_down(jax.nn.silu(self.w_gate(x)) * self.w_up(x))


class Block(nnx.Module):
    def __init__(self, cfg: Config, rngs: nnx.Rngs):
        self.attn_norm = nnx.RMSNorm(cfg.d_model, epsilon=cfg.norm_eps, rngs=rngs)
        self.attn = Attention(cfg, rngs)
        self.mlp_norm = nnx.RMSNorm(cfg.d_model, epsilon=cfg.norm_eps, rngs=rngs)
        self.mlp = MLP(cfg, rngs)

    def __call__(self, x, cos, sin):
        x = x + self.attn(self.attn_norm(x), cos, sin)
        return x + self.mlp(self.mlp_norm(x))


class Llama(nnx.Module):
    def __init__(self, cfg: Config, rngs: nnx.Rngs):
        self.cfg = cfg
        self.embed = nnx.Embed(cfg.vocab_size, cfg.d_model, rngs=rngs)
        # nnx.List, not a plain list: NNX tracks the sub-modules (and their parameters) inside it.
        self.layers = nnx.List([Block(cfg, rngs) for _ in range(cfg.n_layers)])
        self.final_norm = nnx.RMSNorm(cfg.d_model, epsilon=cfg.norm_eps, rngs=rngs)
        self.lm_head = nnx.Linear(cfg.d_model, cfg.vocab_size, use_bias=False, rngs=rngs)

    def __call__(self, tokens):
        x = self.embed(tokens)
        cos, sin = rope_tables(self.cfg, jnp.arange(tokens.shape[1]))
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.lm_head(self.final_norm(x))


def from_params(params, cfg: Config) -> Llama:
    """An NNX Llama holding the functional model's weights (both store dense weights as (in, out))."""
    model = Llama(cfg, nnx.Rngs(0))
    model.embed.embedding[...] = params["embed"]
    model.final_norm.scale[...] = params["final_norm"]
    model.lm_head.kernel[...] = params["lm_head"]
    for block, p in zip(model.layers, params["layers"]):
        block.attn_norm.scale[...] = p["attn_norm"]
        block.mlp_norm.scale[...] = p["mlp_norm"]
        for name in ("wq", "wk", "wv", "wo"):
            getattr(block.attn, name).kernel[...] = p[name]
        for name in ("w_gate", "w_up", "w_down"):
            getattr(block.mlp, name).kernel[...] = p[name]
    return model
