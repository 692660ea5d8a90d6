import math

import jax
import jax.numpy as jnp
import numpy as np
from dlc_shared.testing import assert_close

from train import get_batch, loss_and_grad, sgd_train_step_jit, sgd_update


def test_jitted_step_is_the_eager_step(params, cfg):
    x, y = get_batch(np.arange(400, dtype=np.uint16) * 3 % cfg.vocab_size, jax.random.key(7), 2, 8)
    new, loss = sgd_train_step_jit(params, x, y, 0.5, cfg=cfg)
    ref_loss, grads = jax.jit(loss_and_grad, static_argnames="cfg")(params, x, y, cfg=cfg)  # see test_grad.py
    ref = sgd_update(params, grads, 0.5)
    # One program against two: XLA fuses them differently, so they differ by rounding only. The loss
    # carries the forward (2 sublayers per block + the head) and log-softmax; the new weights carry the
    # backward pass too (the chain again, reversed) and the update. Longest reduction: d_ff, d_model or B * T.
    depth, terms = 2 * cfg.n_layers + 2, max(cfg.d_model, cfg.d_ff, x.size)
    assert_close(float(loss), float(ref_loss), np.float32, terms=terms, depth=depth)
    for a, b in zip(jax.tree_util.tree_leaves(new), jax.tree_util.tree_leaves(ref)):
        assert_close(a, b, np.float32, terms=terms, depth=2 * depth + 1)


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
