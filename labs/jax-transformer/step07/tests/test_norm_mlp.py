import jax
import numpy as np
import torch
from dlc_shared.testing import assert_close

from model import mlp, rms_norm


def test_rms_norm_matches_float64_numpy_and_hugging_face(params, ref, cfg):
    x = jax.random.normal(jax.random.key(7), (2, 5, cfg.d_model)) * 3
    w = params["layers"][0]["mlp_norm"]
    x64, w64 = np.asarray(x, np.float64), np.asarray(w, np.float64)
    expect = x64 / np.sqrt((x64 ** 2).mean(-1, keepdims=True) + cfg.norm_eps) * w64
    out = rms_norm(x, w, cfg.norm_eps)
    assert_close(out, expect, np.float32, terms=cfg.d_model)  # a mean of d_model squares, then a scaling
    with torch.no_grad():
        hf = ref.model.layers[0].post_attention_layernorm(torch.tensor(np.asarray(x)))
    assert_close(out, hf.numpy(), np.float32, terms=cfg.d_model)


def test_mlp_matches_hugging_face(params, ref, cfg):
    x = jax.random.normal(jax.random.key(8), (2, 5, cfg.d_model))
    with torch.no_grad():
        hf = ref.model.layers[1].mlp(torch.tensor(np.asarray(x)))
    assert hf.std() > 0.1
    assert_close(mlp(params["layers"][1], x), hf.numpy(), np.float32, terms=cfg.d_ff)  # one sublayer, K up to d_ff
