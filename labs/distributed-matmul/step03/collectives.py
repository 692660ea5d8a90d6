"""Collectives written with shard_map: the function sees one device's block and names the mesh axis.

all_gather(mesh, "A[I_X, J]", "X") is AllGather_X: A[I_X, J] -> A[I, J]. Every device
ends with the blocks of all k devices on that axis, concatenated in axis order.

A reduction starts from partial sums: each device on the axis holds its own term of
A[I, J] = sum_p S[p, I, J], written A[I, J]{U_X} (unreduced over X). We hold the terms as
one array S[P_X, I, J] whose block on device p is S[p]. ReduceScatter_X sums the terms
and leaves each device one slice, A[I_X, J]; AllReduce_X leaves every device all of A[I, J].
"""
from __future__ import annotations

import functools
import jax
from jax import shard_map
from jax.sharding import Mesh

from notation import parse, to_notation


def _find(dims: list[str], spec, axes: str, notation: str) -> int:
    """The dimension whose subscript ends with `axes` (the minor axes can be gathered as one block)."""
    for i, s in enumerate(tuple(spec) + (None,) * (len(dims) - len(spec))):
        sub = "" if s is None else s if isinstance(s, str) else "".join(s)
        if sub and sub.endswith(axes):
            return i
    raise ValueError(f"{notation!r}: no dimension is sharded over {axes} as its last mesh axes")


def _drop(spec, ndim: int, dim: int, axes: str):
    padded = list(tuple(spec) + (None,) * (ndim - len(spec)))
    sub = padded[dim] if isinstance(padded[dim], str) else "".join(padded[dim])
    rest = sub[: len(sub) - len(axes)]
    padded[dim] = None if not rest else rest if len(rest) == 1 else tuple(rest)
    return jax.sharding.PartitionSpec(*padded)


@functools.cache  # one jitted function per arguments: XLA compiles each program once
def all_gather(mesh: Mesh, notation: str, axes: str):
    """AllGather over `axes` ('X', 'Y' or 'XY'): returns (jitted function, notation of the result)."""
    name, dims, spec = parse(notation, mesh)
    dim = _find(dims, spec, axes, notation)
    out = _drop(spec, len(dims), dim, axes)
    names = tuple(axes) if len(axes) > 1 else axes

    def block(x):
        return jax.lax.all_gather(x, names, axis=dim, tiled=True)

    # the result is the same on every device of the axis; check_vma=False lets out_specs say so
    f = shard_map(block, mesh=mesh, in_specs=spec, out_specs=out, check_vma=False)
    return jax.jit(f), to_notation(name, dims, out)


def book_bytes(op: str, v: int, k: int) -> float:
    """Bytes one device sends, from the scaling book's ring argument, for an array of v bytes on k devices.

    all-gather: v is the gathered array; each device receives the k-1 shards it lacks and,
    on a ring, forwards as many: (k-1)/k * v.
    """
    if op == "all-gather":
        return (k - 1) * v / k
    if op == "reduce-scatter":  # v is one device's unreduced array; the same ring, run the other way
        return (k - 1) * v / k
    if op == "all-reduce":  # a reduce-scatter, then an all-gather of the reduced slices
        return 2 * (k - 1) * v / k
    raise ValueError(f"no formula for {op!r}")


def _partial_sums(mesh: Mesh, axes: str):
    names = tuple(axes) if len(axes) > 1 else axes
    return names, jax.sharding.PartitionSpec(names, None, None)


@functools.cache  # one jitted function per arguments: XLA compiles each program once
def reduce_scatter(mesh: Mesh, axes: str):
    """ReduceScatter over `axes`: S[P_axes, I, J] (terms of A) -> A[I_axes, J]."""
    names, spec = _partial_sums(mesh, axes)

    def block(s):  # s: (1, I, J), this device's term
        return jax.lax.psum_scatter(s[0], names, scatter_dimension=0, tiled=True)

    return jax.jit(shard_map(block, mesh=mesh, in_specs=spec, out_specs=jax.sharding.PartitionSpec(names, None)))


@functools.cache  # one jitted function per arguments: XLA compiles each program once
def all_reduce(mesh: Mesh, axes: str):
    """AllReduce over `axes`: S[P_axes, I, J] -> A[I, J] on every device."""
    names, spec = _partial_sums(mesh, axes)

    def block(s):
        return jax.lax.psum(s[0], names)

    return jax.jit(shard_map(block, mesh=mesh, in_specs=spec, out_specs=jax.sharding.PartitionSpec(None, None)))


@functools.cache  # one jitted function per arguments: XLA compiles each program once
def all_reduce_in_two_steps(mesh: Mesh, axes: str):
    """The same AllReduce written as ReduceScatter, then AllGather of the reduced slices."""
    names, spec = _partial_sums(mesh, axes)

    def block(s):
        piece = jax.lax.psum_scatter(s[0], names, scatter_dimension=0, tiled=True)
        return jax.lax.all_gather(piece, names, axis=0, tiled=True)

    f = shard_map(block, mesh=mesh, in_specs=spec, out_specs=jax.sharding.PartitionSpec(None, None), check_vma=False)
    return jax.jit(f)
