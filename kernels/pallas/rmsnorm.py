"""RMSNorm in Pallas: each grid point normalizes block_rows whole rows while they sit in fast memory."""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl

from ._blocks import check_blocks


def _kernel(x_ref, w_ref, o_ref, *, eps: float):
    x = x_ref[...].astype(jnp.float32)
    ms = jnp.mean(x * x, axis=-1, keepdims=True)
    o_ref[...] = (x * jax.lax.rsqrt(ms + eps) * w_ref[...].astype(jnp.float32)).astype(o_ref.dtype)


@functools.partial(jax.jit, static_argnames=("eps", "block_rows", "interpret"))
def rmsnorm(x, w, eps: float = 1e-5, block_rows: int = 8, interpret: bool = True):
    """x (R, D) / sqrt(mean(x^2) + eps) * w (D,); computed in float32, returned in x's dtype."""
    r, d = x.shape
    check_blocks(r, block_rows, "rows")
    if w.shape != (d,):
        raise ValueError(f"weight shape {w.shape} != ({d},)")
    return pl.pallas_call(
        functools.partial(_kernel, eps=eps),
        out_shape=jax.ShapeDtypeStruct(x.shape, x.dtype),
        grid=(r // block_rows,),
        in_specs=[pl.BlockSpec((block_rows, d), lambda i: (i, 0)), pl.BlockSpec((1, d), lambda i: (0, 0))],
        out_specs=pl.BlockSpec((block_rows, d), lambda i: (i, 0)),
        interpret=interpret,
    )(x, w.reshape(1, d))
