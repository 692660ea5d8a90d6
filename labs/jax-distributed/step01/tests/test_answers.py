"""Checks the numbers in this step's README worked answers (풀이) with the step's own code."""
import math

import jax
import jax.numpy as jnp
import numpy as np
from dlc_shared.testing import assert_close

from model import Config, init_params
from parallel import split_batch
from train import make_optimizer


def test_answer_replicated_bytes():
    p = jax.eval_shape(lambda k: init_params(k, Config()), jax.random.key(0))
    n = sum(math.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(p))
    assert n == 354_624
    assert 3 * n * 4 == 4_255_488  # params, m, v in float32 on every device
    assert 8 * 3 * n * 4 == 34_043_904


def test_answer_adamw_ignores_the_gradient_scale():
    rng = np.random.default_rng(0)
    params = {"w": jnp.asarray(rng.normal(size=(4, 3)), jnp.float32), "b": jnp.ones((3,), jnp.float32)}
    grads = {"w": jnp.asarray(rng.normal(size=(4, 3)) * 0.1, jnp.float32), "b": jnp.full((3,), 0.05, jnp.float32)}
    optimizer = make_optimizer(1e-2, 0, 10)
    state = optimizer.init(params)
    update = jax.jit(lambda g: optimizer.update(g, state, params)[0])  # one program, not one per op
    u1, u8 = update(grads), update(jax.tree_util.tree_map(lambda g: 8 * g, grads))
    # m / sqrt(v) cancels the factor 8 up to rounding (and eps = 1e-8, far below these gradients);
    # the chain: clip norm (15 squares), m, v, sqrt, divide, lr: a few float32 roundings
    for a, b in zip(jax.tree_util.tree_leaves(u8), jax.tree_util.tree_leaves(u1)):
        assert_close(a, b, np.float32, terms=15, depth=5)
    assert float(jnp.abs(u1["w"]).max()) > 5e-3  # a real update of size ~lr, not zeros


def test_answer_rows_per_device():
    x = np.arange(16)[:, None].repeat(8, axis=1)
    parts = split_batch(x, 8)
    assert parts.shape[1] == 2
    assert list(parts[3][:, 0]) == [6, 7]
