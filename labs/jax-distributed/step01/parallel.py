"""Placing the training step on several devices, one layout per step of this lab.

Step 01: data parallelism the old way, with jax.pmap. Every device holds a full copy of
the parameters (stacked on a new leading axis, one row per device), reads its own slice
of the batch, and the gradients are summed over devices with lax.psum (an all-reduce)
before the update, so every copy takes the same step.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from train import global_norm, loss_and_grad


def replicate(tree, n: int):
    """pmap's layout for replicated values: n stacked copies, leading axis = device."""
    return jax.tree_util.tree_map(lambda a: jnp.broadcast_to(a, (n, *a.shape)), tree)


def split_batch(x, n: int):
    """(B, T) -> (n, B / n, T): row i of the leading axis goes to device i."""
    if x.shape[0] % n:
        raise ValueError(f"batch {x.shape[0]} does not split evenly over {n} devices")
    return x.reshape(n, x.shape[0] // n, *x.shape[1:])


def make_pmap_train_step(optimizer, cfg, n: int):
    """The training step under pmap: one copy of `step` per device, the axis named "batch"."""
    def step(params, opt_state, x, y):
        # Inside pmap the arrays have no device axis: this is one device's view.
        loss, grads = loss_and_grad(params, x, y, cfg)  # mean over this device's B / n rows
        # All-reduce: psum adds the n gradients and gives every device the total. The mean of
        # n equal-sized slice means is the mean over the whole batch, hence / n.
        grads = jax.tree_util.tree_map(lambda g: jax.lax.psum(g, "batch") / n, grads)
        loss = jax.lax.psum(loss, "batch") / n
        updates, opt_state = optimizer.update(grads, opt_state, params)  # same grads: same update
        return optax.apply_updates(params, updates), opt_state, loss, global_norm(grads)

    pstep = jax.pmap(step, axis_name="batch")

    def train_step(params, opt_state, x, y):
        params, opt_state, loss, gnorm = pstep(params, opt_state, x, y)
        return params, opt_state, loss[0], gnorm[0]  # every device holds the same loss: take device 0's
    return train_step
