import math

import jax
import jax.numpy as jnp
import numpy as np

from train import get_batch, loss_and_grad, sgd_train_step_jit, sgd_update


def test_jitted_step_is_the_eager_step(params, cfg):
    x, y = get_batch(np.arange(400, dtype=np.uint16) * 3 % cfg.vocab_size, jax.random.key(7), 2, 8)
    new, loss = sgd_train_step_jit(params, x, y, 0.5, cfg=cfg)
    ref_loss, grads = jax.jit(loss_and_grad, static_argnames="cfg")(params, x, y, cfg=cfg)  # see test_grad.py
    ref = sgd_update(params, grads, 0.5)
    np.testing.assert_allclose(float(loss), float(ref_loss), rtol=1e-5)
    for a, b in zip(jax.tree_util.tree_leaves(new), jax.tree_util.tree_leaves(ref)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_sgd_learns_a_repeating_sequence(params, cfg):
    # A period-5 sequence is perfectly predictable after 5 tokens: the loss must fall far below ln V.
    ids = (np.arange(2000) % 5 * 11).astype(np.uint16)
    losses = []
    p = params
    for step in range(40):
        x, y = get_batch(ids, jax.random.key(step), 4, 16)
        p, loss = sgd_train_step_jit(p, x, y, jnp.float32(0.5), cfg=cfg)
        losses.append(float(loss))
    assert losses[0] > math.log(cfg.vocab_size)
    assert losses[-1] < 1.0
