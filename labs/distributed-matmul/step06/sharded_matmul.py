"""The four sharded-matmul cases: C = A · B with A[I, J], B[J, K], contracting over J.

Give jit the operands' shardings and the result's, and XLA's SPMD partitioner decides
what each device computes and which collective it needs. Which one follows from where
J (the contracting dimension) and the mesh axes sit (the scaling book's four cases):

  1. J unsharded in both: every device multiplies its blocks; no communication.
  2. J sharded in one operand: AllGather that operand along J first.
  3. J sharded the same way in both: multiply the blocks into partial sums C{U_X},
     then AllReduce (C[I, K]) or ReduceScatter (C[I_X, K]).
  4. A non-contracting dimension of each operand on the same axis (A[I_X, J], B[J, K_X]):
     C[I_X, K_X] cannot exist, so AllGather one operand first.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
from jax import shard_map
from jax.sharding import Mesh, NamedSharding

from collectives import book_bytes
from notation import local_shape, parse


@dataclass(frozen=True)
class Case:
    case: int
    a: str
    b: str
    c: str
    # what the book predicts: (collective, the array it produces or reduces, mesh axes)
    comms: tuple[tuple[str, str, str], ...]


CASES = [
    Case(1, "A[I_X, J]", "B[J, K]", "C[I_X, K]", ()),
    Case(1, "A[I_X, J]", "B[J, K_Y]", "C[I_X, K_Y]", ()),
    Case(2, "A[I, J_X]", "B[J, K]", "C[I, K]", (("all-gather", "A[I, J]", "X"),)),
    Case(3, "A[I, J_X]", "B[J_X, K]", "C[I, K]", (("all-reduce", "C[I, K]", "X"),)),
    Case(3, "A[I_X, J_Y]", "B[J_Y, K]", "C[I_X, K]", (("all-reduce", "C[I_X, K]", "Y"),)),
    # the book: a ReduceScatter. XLA's CPU pipeline instead all-reduces and keeps a slice (see CPU_CHOICES)
    Case(3, "A[I, J_X]", "B[J_X, K]", "C[I_X, K]", (("reduce-scatter", "C[I, K]", "X"),)),
    Case(4, "A[I_X, J]", "B[J, K_X]", "C[I_X, K]", (("all-gather", "B[J, K]", "X"),)),
]

# Where the compiler for this backend does something else than the book, and what.
CPU_CHOICES = {("A[I, J_X]", "B[J_X, K]", "C[I_X, K]"): (("all-reduce", "C[I, K]", "X"),)}


def label(case: Case) -> str:
    return f"{case.a} · {case.b} -> {case.c}"


@functools.cache  # one jitted function per arguments: XLA compiles each program once
def sharded_matmul(mesh: Mesh, case: Case):
    """jit(matmul) with the operands placed as the case says and the result asked for in case.c."""
    return jax.jit(jnp.matmul, out_shardings=NamedSharding(mesh, parse(case.c, mesh)[2]))


@functools.cache  # one jitted function per arguments: XLA compiles each program once
def matmul_reduce_scatter(mesh: Mesh, axis: str = "X"):
    """Case 3 written by hand: A[I, J_X] · B[J_X, K] -> C[I_X, K] with an explicit ReduceScatter."""
    P = jax.sharding.PartitionSpec

    def block(a, b):  # (I, J/k) · (J/k, K): this device's partial sum of all of C
        return jax.lax.psum_scatter(a @ b, axis, scatter_dimension=0, tiled=True)

    return jax.jit(shard_map(block, mesh=mesh, in_specs=(P(None, axis), P(axis, None)), out_specs=P(axis, None)))


def book_comms(mesh: Mesh, comms, sizes: dict[str, int], itemsize: int = 4) -> list[tuple[str, int, float]]:
    """(collective, k, bytes one device sends) for the predicted comms, from the notation alone."""
    out = []
    for op, notation, axes in comms:
        _, dims, spec = parse(notation, mesh)
        v = itemsize
        for n in local_shape(tuple(sizes[d] for d in dims), spec, mesh):
            v *= n
        k = 1
        for a in axes:
            k *= mesh.shape[a]
        out.append((op, k, book_bytes(op, v, k)))
    return out
