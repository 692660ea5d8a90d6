"""Checks the numbers in this step's README worked answers (풀이) with the step's own code."""
import math

import jax
import jax.numpy as jnp
from dlc_shared.testing import assert_close

from train import cross_entropy


def test_answer_uniform_loss_is_log_vocab():
    # 풀이: equal logits over V = 32,000 give ln 32000 = 10.373 nats/token
    loss = cross_entropy(jnp.zeros((1, 2, 32_000), jnp.float32), jnp.zeros((1, 2), jnp.int32))
    # log-sum-exp over 32,000 terms, then a mean of 2
    assert_close(float(loss), math.log(32_000), jnp.float32, terms=32_000)
    assert round(float(loss), 3) == 10.373


def test_answer_warmup_schedule_and_first_update():
    from train import make_optimizer
    optimizer, schedule = make_optimizer(1e-2, 15, 150)
    # 풀이: lr 0 at step 0, peak 1e-2 at step W = 15, lr/10 = 1e-3 at step 150
    assert float(schedule(0)) == 0.0
    assert_close(float(schedule(15)), 1e-2, jnp.float32)
    assert_close(float(schedule(150)), 1e-3, jnp.float32, terms=4)  # cos and a few products
    # the first update uses schedule(0) = 0: AdamW's step and its weight decay are both scaled by 0
    params = {"w": jnp.ones((2, 2)), "b": jnp.ones((2,))}
    grads = jax.tree_util.tree_map(jnp.ones_like, params)
    updates, _ = optimizer.update(grads, optimizer.init(params), params)
    assert all(bool((u == 0).all()) for u in jax.tree_util.tree_leaves(updates))


def test_answer_checkpoint_bytes():
    from model import Config, init_params
    p = jax.eval_shape(lambda k: init_params(k, Config()), jax.random.key(0))
    n = sum(math.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(p))
    assert n == 354_624
    # 풀이: params, m, v in float32 = 3 * 354,624 * 4 bytes
    assert 3 * n * 4 == 4_255_488
