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
Step 04: a 2D mesh, data x model. The batch is split over "data" as before; inside each
block the matrices are split over "model" (tensor parallelism, Megatron-style): the first
matmul of a sublayer by columns (each device computes some heads, or some of d_ff),
the second by rows (each device adds its part; one all-reduce sums the parts).
Step 05: shard_map. FSDP written the other way round: the function sees one device's
slices and rows, and every collective is in the code (all_gather of the weights,
psum_scatter of the gradients, psum of the loss). jit still compiles the update around it.
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


COLUMN = {"wq", "wk", "wv", "w_gate", "w_up"}  # (d_model, out): each device computes out / m columns
ROW = {"wo", "w_down"}  # (in, d_model): each device multiplies its in / m rows, then the parts are summed


def tensor_parallel(mesh, tree, axis: str = "model"):
    """Megatron layout for attention and MLP weights (and Adam's m, v, which share their names)."""
    def spec(path, a):
        name = path[-1].key if path and isinstance(path[-1], jax.tree_util.DictKey) else None
        if name in COLUMN:
            return NamedSharding(mesh, P(None, axis))
        if name in ROW:
            return NamedSharding(mesh, P(axis, None))
        return NamedSharding(mesh, P())  # embeddings, norms, the head, scalars: replicated
    return jax.tree_util.tree_map_with_path(spec, tree)


def make_shard_map_train_step(optimizer, cfg, mesh, state_shardings: dict, axis: str = "data"):
    """FSDP with explicit collectives: shard_map computes loss and gradient slices, jit the update."""
    n = mesh.shape[axis]
    params_sh, opt_sh = state_shardings["params"], state_shardings["opt_state"]
    specs = jax.tree_util.tree_map(lambda s: s.spec, params_sh)
    split = jax.tree_util.tree_map(lambda s: s.spec == P(axis), params_sh)  # which leaves are sliced

    def local_loss_and_grad(params, x, y):
        # One device's view: its slice of every split weight, its B / n rows of the batch.
        gather = lambda p, s: jax.lax.all_gather(p, axis, axis=0, tiled=True) if s else p
        full = jax.tree_util.tree_map(gather, params, split)  # the whole weights, on every device
        loss, grads = loss_and_grad(full, x, y, cfg)  # gradient of this device's rows only
        # Sum over devices, keep only this device's slice (reduce-scatter); / n turns the sum of
        # n slice means into the batch mean.
        scatter = lambda g, s: (jax.lax.psum_scatter(g, axis, scatter_dimension=0, tiled=True) if s
                                else jax.lax.psum(g, axis)) / n
        return jax.lax.psum(loss, axis) / n, jax.tree_util.tree_map(scatter, grads, split)

    grads_fn = jax.shard_map(local_loss_and_grad, mesh=mesh, in_specs=(specs, P(axis), P(axis)),
                             out_specs=(P(), specs))

    def train_step(params, opt_state, x, y):
        loss, grads = grads_fn(params, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, params)  # on slices, outside shard_map
        return optax.apply_updates(params, updates), opt_state, loss, global_norm(grads)

    batch = NamedSharding(mesh, P(axis))
    scalar = NamedSharding(mesh, P())
    return jax.jit(train_step, in_shardings=(params_sh, opt_sh, batch, batch),
                   out_shardings=(params_sh, opt_sh, scalar, scalar))
