"""Blocked matmul in Pallas: grid point (i, j) owns output tile C[i, j] and walks K in block_k steps."""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl

from ._blocks import check_blocks


def _kernel(x_ref, y_ref, o_ref, *, block_k: int):
    def body(k, acc):
        a = x_ref[:, pl.ds(k * block_k, block_k)]
        b = y_ref[pl.ds(k * block_k, block_k), :]
        return acc + jnp.dot(a, b, preferred_element_type=jnp.float32)

    acc = jax.lax.fori_loop(0, x_ref.shape[1] // block_k, body, jnp.zeros(o_ref.shape, jnp.float32))
    o_ref[...] = acc.astype(o_ref.dtype)


@functools.partial(jax.jit, static_argnames=("block_m", "block_n", "block_k", "interpret"))
def matmul(x, y, block_m: int = 32, block_n: int = 32, block_k: int = 32, interpret: bool = True):
    """x (M, K) @ y (K, N), accumulated in float32, returned in x's dtype."""
    (m, k), (k2, n) = x.shape, y.shape
    if k != k2:
        raise ValueError(f"inner dimensions differ: {x.shape} @ {y.shape}")
    for size, block, what in [(m, block_m, "M"), (n, block_n, "N"), (k, block_k, "K")]:
        check_blocks(size, block, what)
    return pl.pallas_call(
        functools.partial(_kernel, block_k=block_k),
        out_shape=jax.ShapeDtypeStruct((m, n), x.dtype),
        grid=(m // block_m, n // block_n),
        in_specs=[pl.BlockSpec((block_m, k), lambda i, j: (i, 0)), pl.BlockSpec((k, block_n), lambda i, j: (0, j))],
        out_specs=pl.BlockSpec((block_m, block_n), lambda i, j: (i, j)),
        interpret=interpret,
    )(x, y)
