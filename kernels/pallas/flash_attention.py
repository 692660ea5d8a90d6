"""Causal attention forward in Pallas (FlashAttention style): blocked, with an online softmax.

softmax(q k^T / sqrt(d)) v for one query block needs every key of its row, but never
the whole (T, T) score matrix. Walk the key/value blocks left to right, keeping per
query row the running max m, the running sum l of exp(score - m) and the running
output acc. When a new block raises the max to m', rescale what was kept by
exp(m - m') before adding the block. After the last block, out = acc / l. Causal:
key blocks entirely after the query block are skipped; the diagonal block is masked.
"""
from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl

from ._blocks import check_blocks


def key_blocks(qi, block_q: int, block_k: int):
    """Key blocks 0 .. the one holding query block qi's last row; all later ones are masked entirely."""
    return ((qi + 1) * block_q + block_k - 1) // block_k


def _flash_kernel(q_ref, k_ref, v_ref, o_ref, *, block_q: int, block_k: int, scale: float):
    qi = pl.program_id(1)
    q = q_ref[...].astype(jnp.float32) * scale  # (block_q, d)
    rows = qi * block_q + jax.lax.broadcasted_iota(jnp.int32, (block_q, block_k), 0)

    def body(j, carry):
        m, l, acc = carry
        k = k_ref[pl.ds(j * block_k, block_k), :].astype(jnp.float32)
        v = v_ref[pl.ds(j * block_k, block_k), :].astype(jnp.float32)
        s = jnp.dot(q, k.T, preferred_element_type=jnp.float32)  # (block_q, block_k) scores
        cols = j * block_k + jax.lax.broadcasted_iota(jnp.int32, (block_q, block_k), 1)
        s = jnp.where(cols <= rows, s, -jnp.inf)  # causal: row t sees columns <= t
        m_new = jnp.maximum(m, s.max(axis=-1))
        p = jnp.exp(s - m_new[:, None])
        correction = jnp.exp(m - m_new)  # how much the old max overstated the new one
        return m_new, l * correction + p.sum(axis=-1), acc * correction[:, None] + jnp.dot(p, v)

    d = q_ref.shape[-1]
    init = (jnp.full((block_q,), -jnp.inf, jnp.float32), jnp.zeros((block_q,), jnp.float32),
            jnp.zeros((block_q, d), jnp.float32))
    m, l, acc = jax.lax.fori_loop(0, key_blocks(qi, block_q, block_k), body, init)
    o_ref[...] = (acc / l[:, None]).astype(o_ref.dtype)


@functools.partial(jax.jit, static_argnames=("block_q", "block_k", "interpret"))
def flash_attention(q, k, v, block_q: int = 16, block_k: int = 16, interpret: bool = True):
    """Causal attention of q, k, v (BH, T, d) -> (BH, T, d): grid (BH, T / block_q), keys walked in block_k steps."""
    bh, t, d = q.shape
    if k.shape != q.shape or v.shape != q.shape:
        raise ValueError(f"q, k, v must have one shape, got {q.shape}, {k.shape}, {v.shape}")
    check_blocks(t, block_q, "sequence length")
    check_blocks(t, block_k, "sequence length")
    kernel = functools.partial(_flash_kernel, block_q=block_q, block_k=block_k, scale=1 / math.sqrt(d))
    q_spec = pl.BlockSpec((None, block_q, d), lambda b, i: (b, i, 0))  # None: that axis is squeezed away
    kv_spec = pl.BlockSpec((None, t, d), lambda b, i: (b, 0, 0))  # the whole sequence; the kernel walks it
    return pl.pallas_call(kernel, out_shape=jax.ShapeDtypeStruct(q.shape, q.dtype), grid=(bh, t // block_q),
                          in_specs=[q_spec, kv_spec, kv_spec], out_specs=q_spec, interpret=interpret)(q, k, v)

