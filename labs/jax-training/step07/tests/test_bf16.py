import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from dlc_shared.testing import assert_close, tolerance

from convert import hf_model
from model import forward_jit
from train import cast, get_batch, init_state, loss_and_grad, make_optimizer, make_train_step


grad_fn = jax.jit(loss_and_grad, static_argnames=("cfg", "compute_dtype"))  # jit only for test speed


def batch(cfg):
    return get_batch((np.arange(3000) * 7 % cfg.vocab_size).astype(np.uint16), jax.random.key(3), 4, 16)


def float64_logits(params, x, cfg):
    """Hugging Face's Llama in float64 holding the bf16-rounded weights: the exact function the bf16 run computes."""
    ref = hf_model(cast(cast(params, jnp.bfloat16), jnp.float32), cfg).double()
    with torch.no_grad():
        return ref(torch.tensor(np.asarray(x), dtype=torch.long)).logits.numpy()


def assert_bf16_close(logits, expect, cfg):
    # bf16 rounds each matmul's output once (the products accumulate in float32 on CPU and GPU: terms=1);
    # the roundings chain through 2 sublayers per block and the head.
    assert_close(logits.astype(jnp.float32), expect, jnp.bfloat16, terms=1, depth=2 * cfg.n_layers + 1)


def test_bf16_forward_really_runs_in_bf16_and_matches_a_float64_reference(params, cfg):
    x, _ = batch(cfg)
    f32 = forward_jit(params, x, cfg=cfg)
    bf16 = forward_jit(cast(params, jnp.bfloat16), x, cfg=cfg)
    assert f32.dtype == jnp.float32 and bf16.dtype == jnp.bfloat16  # no silent promotion to float32
    assert not np.array_equal(np.asarray(f32), np.asarray(bf16.astype(jnp.float32)))  # rounding did happen
    expect = float64_logits(params, x, cfg)
    assert len(set(expect.argmax(-1).ravel())) > 5  # varied predictions, not one token everywhere
    assert_bf16_close(bf16, expect, cfg)


def test_the_bf16_bound_catches_a_misplaced_norm(params, cfg):
    # The test above can fail: swap each block's two norm weights (random, not 1) and the logits move off.
    x, _ = batch(cfg)
    wrong = jax.tree_util.tree_map(lambda a: a, params)
    for layer in wrong["layers"]:
        layer["attn_norm"], layer["mlp_norm"] = layer["mlp_norm"], layer["attn_norm"]
    with pytest.raises(AssertionError, match="tolerance"):
        assert_bf16_close(forward_jit(cast(wrong, jnp.bfloat16), x, cfg=cfg), float64_logits(params, x, cfg), cfg)


def test_bf16_loss_and_grads_against_float32(params, cfg):
    # float32 is checked against PyTorch autograd in test_grad.py; bf16 must differ from it by rounding only.
    x, y = batch(cfg)
    loss32, g32 = grad_fn(params, x, y, cfg=cfg, compute_dtype=jnp.float32)
    loss16, g16 = grad_fn(params, x, y, cfg=cfg, compute_dtype=jnp.bfloat16)
    assert all(g.dtype == jnp.float32 for g in jax.tree_util.tree_leaves(g16))  # grads of fp32 params
    depth = 2 * cfg.n_layers + 1  # the forward's chain, as above
    # One position's loss moves by at most 2 max|dz| when its logits move by dz (log-sum-exp and the
    # target logit, each by at most max|dz|); the mean over B * T positions averages independent
    # rounding errors down by sqrt(B * T), the same random walk as `terms`.
    z = float(jnp.abs(forward_jit(params, x, cfg=cfg)).max())
    bound = 2 * tolerance(jnp.bfloat16, z, terms=1, depth=depth) / math.sqrt(x.size)
    assert abs(float(loss16) - float(loss32)) <= bound, (float(loss16), float(loss32), bound)
    for a, b in zip(jax.tree_util.tree_leaves(g16), jax.tree_util.tree_leaves(g32)):
        assert_close(a, b, jnp.bfloat16, terms=1, depth=2 * depth)  # the backward pass runs the chain again


def test_params_and_optimizer_state_stay_float32(cfg):
    optimizer, _ = make_optimizer(1e-2, 1, 4)
    state = init_state(jax.random.key(0), cfg, optimizer)
    x, y = batch(cfg)
    step = make_train_step(optimizer, cfg, jnp.bfloat16)
    params, opt_state, loss, _ = step(state["params"], state["opt_state"], x, y)
    floats = [a for a in jax.tree_util.tree_leaves((params, opt_state)) if jnp.issubdtype(a.dtype, jnp.floating)]
    assert floats and all(a.dtype == jnp.float32 for a in floats)
    assert np.isfinite(float(loss))
