"""Collective matmul: hide case 4's AllGather behind the matmul it feeds.

A[I_X, J] · B[J, K_X] -> C[I, K_X] needs all of A on every device (case 4). Gathering
first makes the matmul wait for the whole gather. Instead, cut the gather into its k-1
ring steps: each step hands the A block a device holds to its neighbour (ppermute) and,
while that block travels, multiplies the block it already has into its rows of C. The
bytes are those of the AllGather; what changes is that they move while the device computes.
"""
from __future__ import annotations

import functools
import jax
import jax.numpy as jnp
from jax import shard_map
from jax.sharding import Mesh, PartitionSpec as P


@functools.cache  # one jitted function per arguments: XLA compiles each program once
def matmul_all_gather(mesh: Mesh, axis: str = "X"):
    """The unoverlapped form: AllGather A, then one matmul."""
    def block(a, b):  # a: (I/k, J), b: (J, K/k)
        return jax.lax.all_gather(a, axis, axis=0, tiled=True) @ b

    return jax.jit(shard_map(block, mesh=mesh, in_specs=(P(axis, None), P(None, axis)), out_specs=P(None, axis)))


@functools.cache  # one jitted function per arguments: XLA compiles each program once
def collective_matmul(mesh: Mesh, axis: str = "X"):
    """The overlapped form: k steps, each multiplies one A block while the next one arrives."""
    k = mesh.shape[axis]
    to_left = [(j, (j - 1) % k) for j in range(k)]  # device j sends to j-1, so it receives from j+1

    def block(a, b):
        me, rows = jax.lax.axis_index(axis), a.shape[0]
        c = jnp.zeros((rows * k, b.shape[1]), a.dtype)
        for step in range(k):
            if step < k - 1:
                incoming = jax.lax.ppermute(a, axis, to_left)  # independent of the matmul below: may run beside it
            src = (me + step) % k  # after `step` shifts this device holds the block that started on me+step
            c = jax.lax.dynamic_update_slice(c, a @ b, (src * rows, 0))
            if step < k - 1:
                a = incoming
        return c

    return jax.jit(shard_map(block, mesh=mesh, in_specs=(P(axis, None), P(None, axis)), out_specs=P(None, axis)))
