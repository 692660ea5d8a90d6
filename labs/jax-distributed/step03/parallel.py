"""Placing the training step on several devices, one layout per step of this lab.

Step 01: data parallelism the old way, with jax.pmap. Every device holds a full copy of
the parameters (stacked on a new leading axis, one row per device), reads its own slice
of the batch, and the gradients are summed over devices with lax.psum (an all-reduce)
before the update, so every copy takes the same step.
Step 02: the same data parallelism with jit and shardings. A Mesh names the devices'
axis ("data"); a NamedSharding says how each array is laid over it (PartitionSpec: which
array axis is split over which mesh axis). The step function is the single-device one;
jit sees the batch split over "data" and the parameters replicated, and inserts the
all-reduce of the gradients itself.
Step 03: FSDP. The parameters and Adam's m and v are split over the same "data" axis as
the batch: each device keeps 1/8 of every matrix. jit gathers a whole weight where the
forward or backward pass needs it (all-gather) and hands each device only its slice of
the summed gradient (reduce-scatter), so the update runs on slices.
"""
from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import optax
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

from train import global_norm, loss_and_grad, make_step_fn


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


def make_mesh(shape: tuple[int, ...], names: tuple[str, ...]):
    """A device mesh. Auto axes: the compiler propagates shardings through the whole program."""
    return jax.make_mesh(shape, names, axis_types=(AxisType.Auto,) * len(names))


def replicated(mesh, tree):
    """P(): no array axis is split, so every device holds all of it."""
    return jax.tree_util.tree_map(lambda _: NamedSharding(mesh, P()), tree)


def make_sharded_train_step(optimizer, cfg, state_shardings: dict, batch_sharding: NamedSharding):
    """The single-device step function, compiled for these placements; jit adds the collectives."""
    params, opt_state = state_shardings["params"], state_shardings["opt_state"]
    scalar = NamedSharding(batch_sharding.mesh, P())
    return jax.jit(make_step_fn(optimizer, cfg), in_shardings=(params, opt_state, batch_sharding, batch_sharding),
                   out_shardings=(params, opt_state, scalar, scalar))  # the new state stays where the old one was


def collectives(compiled) -> dict:
    """How many of each cross-device operation the compiled program runs (from its HLO text)."""
    text = compiled.as_text()
    ops = ("all-reduce", "all-gather", "reduce-scatter", "all-to-all", "collective-permute")
    return {op: len(re.findall(rf"\s{op}(?:-start)?\(", text)) for op in ops}


def fsdp(mesh, tree, axis: str = "data"):
    """Split every array's first axis over `axis` where it divides evenly; replicate the rest."""
    n = mesh.shape[axis]

    def spec(a):
        if a.ndim >= 1 and a.shape[0] % n == 0:
            return NamedSharding(mesh, P(axis))
        return NamedSharding(mesh, P())  # scalars (Adam's step count) and odd sizes
    return jax.tree_util.tree_map(spec, tree)
