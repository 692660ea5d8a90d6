import jax
import jax.numpy as jnp
import numpy as np

from model import forward_jit
from train import cast, get_batch, init_state, loss_and_grad, make_optimizer, make_train_step


grad_fn = jax.jit(loss_and_grad, static_argnames=("cfg", "compute_dtype"))  # jit only for test speed


def batch(cfg):
    return get_batch((np.arange(3000) * 7 % cfg.vocab_size).astype(np.uint16), jax.random.key(3), 4, 16)


def test_bf16_forward_really_runs_in_bf16_and_stays_close(params, cfg):
    x, _ = batch(cfg)
    f32 = forward_jit(params, x, cfg=cfg)
    bf16 = forward_jit(cast(params, jnp.bfloat16), x, cfg=cfg)
    assert f32.dtype == jnp.float32 and bf16.dtype == jnp.bfloat16  # no silent promotion to float32
    a, b = np.asarray(f32), np.asarray(bf16.astype(jnp.float32))
    assert not np.array_equal(a, b)  # rounding did happen
    assert np.abs(a - b).max() < 0.1 * np.abs(a).max()  # bf16 keeps ~3 significant digits
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.999


def test_bf16_loss_and_grads_against_float32(params, cfg):
    x, y = batch(cfg)
    loss32, g32 = grad_fn(params, x, y, cfg=cfg, compute_dtype=jnp.float32)
    loss16, g16 = grad_fn(params, x, y, cfg=cfg, compute_dtype=jnp.bfloat16)
    assert all(g.dtype == jnp.float32 for g in jax.tree_util.tree_leaves(g16))  # grads of fp32 params
    assert abs(float(loss16) - float(loss32)) < 0.02
    v32 = np.concatenate([np.ravel(g) for g in jax.tree_util.tree_leaves(g32)])
    v16 = np.concatenate([np.ravel(g) for g in jax.tree_util.tree_leaves(g16)])
    assert v32 @ v16 / np.linalg.norm(v32) / np.linalg.norm(v16) > 0.99


def test_params_and_optimizer_state_stay_float32(cfg):
    optimizer, _ = make_optimizer(1e-2, 1, 4)
    state = init_state(jax.random.key(0), cfg, optimizer)
    x, y = batch(cfg)
    step = make_train_step(optimizer, cfg, jnp.bfloat16)
    params, opt_state, loss, _ = step(state["params"], state["opt_state"], x, y)
    floats = [a for a in jax.tree_util.tree_leaves((params, opt_state)) if jnp.issubdtype(a.dtype, jnp.floating)]
    assert floats and all(a.dtype == jnp.float32 for a in floats)
    assert np.isfinite(float(loss))
