"""Row softmax in Pallas: a block of whole rows is read once, its max and sum kept on chip, written once."""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl

from ._blocks import check_blocks


def _kernel(x_ref, o_ref):
    x = x_ref[...].astype(jnp.float32)
    e = jnp.exp(x - jnp.max(x, axis=-1, keepdims=True))  # the row max subtracted: exp never overflows
    o_ref[...] = (e / jnp.sum(e, axis=-1, keepdims=True)).astype(o_ref.dtype)


@functools.partial(jax.jit, static_argnames=("block_rows", "interpret"))
def softmax(x, block_rows: int = 8, interpret: bool = True):
    """Softmax over the last axis of x (R, C)."""
    r, c = x.shape
    check_blocks(r, block_rows, "rows")
    spec = pl.BlockSpec((block_rows, c), lambda i: (i, 0))
    return pl.pallas_call(_kernel, out_shape=jax.ShapeDtypeStruct(x.shape, x.dtype), grid=(r // block_rows,),
                          in_specs=[spec], out_specs=spec, interpret=interpret)(x)
