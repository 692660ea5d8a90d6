"""Three kernels written in Pallas: RMSNorm and softmax fused per row block, and a blocked matmul.

A Pallas kernel is a Python function over Refs (views of blocks of its inputs and
outputs in fast memory). pallas_call runs it once per point of a grid; each BlockSpec
says which block of an array a grid point sees. The body reads blocks with ref[...],
computes with jnp, and writes its output block. One kernel does what XLA would do as
several passes over memory (RMSNorm: square, mean, rsqrt, scale) while the row is in
fast memory. interpret=True runs the same kernel on any backend (here: the CPU) by
evaluating the grid in a loop; interpret=False compiles it for the GPU (via Triton).
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl


def _check_blocks(n: int, block: int, what: str) -> None:
    if n % block:
        raise ValueError(f"{what} {n} is not a multiple of the block size {block}")


def _rmsnorm_kernel(x_ref, w_ref, o_ref, *, eps: float):
    x = x_ref[...].astype(jnp.float32)  # a (block_rows, D) block: whole rows
    ms = jnp.mean(x * x, axis=-1, keepdims=True)
    o_ref[...] = (x * jax.lax.rsqrt(ms + eps) * w_ref[...].astype(jnp.float32)).astype(o_ref.dtype)


@functools.partial(jax.jit, static_argnames=("eps", "block_rows", "interpret"))
def rmsnorm(x, w, eps: float = 1e-5, block_rows: int = 8, interpret: bool = True):
    """x (R, D) / sqrt(mean(x^2) + eps) * w (D,), one grid point per block of block_rows rows."""
    r, d = x.shape
    _check_blocks(r, block_rows, "rows")
    return pl.pallas_call(
        functools.partial(_rmsnorm_kernel, eps=eps),
        out_shape=jax.ShapeDtypeStruct(x.shape, x.dtype),
        grid=(r // block_rows,),
        in_specs=[pl.BlockSpec((block_rows, d), lambda i: (i, 0)),
                  pl.BlockSpec((1, d), lambda i: (0, 0))],  # every grid point sees the whole weight
        out_specs=pl.BlockSpec((block_rows, d), lambda i: (i, 0)),
        interpret=interpret,
    )(x, w.reshape(1, d))


def _softmax_kernel(x_ref, o_ref):
    x = x_ref[...].astype(jnp.float32)
    e = jnp.exp(x - jnp.max(x, axis=-1, keepdims=True))  # subtract the row max: exp never overflows
    o_ref[...] = (e / jnp.sum(e, axis=-1, keepdims=True)).astype(o_ref.dtype)


@functools.partial(jax.jit, static_argnames=("block_rows", "interpret"))
def softmax(x, block_rows: int = 8, interpret: bool = True):
    """Softmax over the last axis of x (R, C): read once, written once, max and sum kept in registers."""
    r, c = x.shape
    _check_blocks(r, block_rows, "rows")
    spec = pl.BlockSpec((block_rows, c), lambda i: (i, 0))
    return pl.pallas_call(_softmax_kernel, out_shape=jax.ShapeDtypeStruct(x.shape, x.dtype),
                          grid=(r // block_rows,), in_specs=[spec], out_specs=spec, interpret=interpret)(x)


def _matmul_kernel(x_ref, y_ref, o_ref, *, block_k: int):
    # x_ref: (bm, K) rows of A, y_ref: (K, bn) columns of B. Walk K in block_k steps, accumulating in float32.
    def body(k, acc):
        a = x_ref[:, pl.ds(k * block_k, block_k)]
        b = y_ref[pl.ds(k * block_k, block_k), :]
        return acc + jnp.dot(a, b, preferred_element_type=jnp.float32)

    acc = jnp.zeros(o_ref.shape, jnp.float32)
    acc = jax.lax.fori_loop(0, x_ref.shape[1] // block_k, body, acc)
    o_ref[...] = acc.astype(o_ref.dtype)


@functools.partial(jax.jit, static_argnames=("block_m", "block_n", "block_k", "interpret"))
def matmul(x, y, block_m: int = 32, block_n: int = 32, block_k: int = 32, interpret: bool = True):
    """x (M, K) @ y (K, N): grid point (i, j) computes the (block_m, block_n) tile C[i, j]."""
    (m, k), (k2, n) = x.shape, y.shape
    if k != k2:
        raise ValueError(f"inner dimensions differ: {x.shape} @ {y.shape}")
    for size, block, what in [(m, block_m, "M"), (n, block_n, "N"), (k, block_k, "K")]:
        _check_blocks(size, block, what)
    return pl.pallas_call(
        functools.partial(_matmul_kernel, block_k=block_k),
        out_shape=jax.ShapeDtypeStruct((m, n), x.dtype),
        grid=(m // block_m, n // block_n),
        in_specs=[pl.BlockSpec((block_m, k), lambda i, j: (i, 0)),
                  pl.BlockSpec((k, block_n), lambda i, j: (0, j))],
        out_specs=pl.BlockSpec((block_m, block_n), lambda i, j: (i, j)),
        interpret=interpret,
    )(x, y)
