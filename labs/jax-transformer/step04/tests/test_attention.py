import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from dlc_shared.testing import assert_close
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

from convert import hf_model
from model import apply_rope, attention, init_params, rope_tables


attention_jit = jax.jit(attention, static_argnames="cfg")  # compiled once per shape: fast tests


def causal_mask(t: int) -> torch.Tensor:
    """Additive mask for Hugging Face's eager attention: 0 where allowed, -inf above the diagonal."""
    return torch.full((t, t), float("-inf")).triu(1)[None, None]


def test_rope_matches_hugging_face(ref, cfg):
    b, t = 2, 9
    q = jax.random.normal(jax.random.key(3), (b, cfg.n_heads, t, cfg.head_dim))
    k = jax.random.normal(jax.random.key(4), (b, cfg.n_kv_heads, t, cfg.head_dim))
    pos = torch.arange(t)[None].expand(b, t)
    hf_cos, hf_sin = ref.model.rotary_emb(torch.zeros(1), pos)
    cos, sin = rope_tables(cfg, jnp.arange(t))
    # An angle m * theta_i rounds at its own size (up to t - 1 radians) and cos, sin carry that error;
    # depth: the frequency (a power), the angle (a product), the cosine.
    assert_close(cos, hf_cos[0].numpy(), np.float32, depth=3, scale=t - 1)
    assert_close(sin, hf_sin[0].numpy(), np.float32, depth=3, scale=t - 1)
    hf_q, hf_k = apply_rotary_pos_emb(torch.tensor(np.asarray(q)), torch.tensor(np.asarray(k)), hf_cos, hf_sin)
    # On the same tables (checked above) the rotation is x * cos + rotate(x) * sin: two products, one sum.
    cos, sin = hf_cos[0].numpy(), hf_sin[0].numpy()
    assert_close(apply_rope(q, cos, sin), hf_q.numpy(), np.float32, terms=2, depth=2)
    assert_close(apply_rope(k, cos, sin), hf_k.numpy(), np.float32, terms=2, depth=2)


@pytest.mark.parametrize("n_kv_heads", [1, 2, 4])  # multi-query, grouped-query, multi-head
def test_attention_matches_hugging_face(cfg, n_kv_heads):
    cfg = dataclasses.replace(cfg, n_kv_heads=n_kv_heads)
    params = jax.jit(init_params, static_argnums=1)(jax.random.key(n_kv_heads), cfg)
    ref = hf_model(params, cfg)
    b, t = 2, 7
    x = jax.random.normal(jax.random.key(5), (b, t, cfg.d_model))
    xt = torch.tensor(np.asarray(x))
    with torch.no_grad():
        pos_emb = ref.model.rotary_emb(xt, torch.arange(t)[None].expand(b, t))
        expect, _ = ref.model.layers[0].self_attn(xt, position_embeddings=pos_emb, attention_mask=causal_mask(t))
    assert expect.std() > 0.1  # a non-trivial reference output
    cos, sin = rope_tables(cfg, jnp.arange(t))
    # One sublayer; its longest reduction is d_model (projections), t (softmax, weights @ v) or head_dim.
    assert_close(attention_jit(params["layers"][0], x, cos, sin, cfg=cfg), expect.numpy(), np.float32,
                 terms=max(cfg.d_model, t, cfg.head_dim))


def test_attention_is_causal(params, cfg):
    t = 6
    x = jax.random.normal(jax.random.key(6), (1, t, cfg.d_model))
    cos, sin = rope_tables(cfg, jnp.arange(t))
    y = attention_jit(params["layers"][0], x, cos, sin, cfg=cfg)
    y2 = attention_jit(params["layers"][0], x.at[0, 4].add(1.0), cos, sin, cfg=cfg)
    np.testing.assert_array_equal(y[0, :4], y2[0, :4])  # the past cannot see the future
    assert not np.allclose(y[0, 4:], y2[0, 4:])
