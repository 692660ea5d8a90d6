"""The Pallas flash-attention forward (interpret=True on the CPU) against float64 NumPy causal attention."""
import math

import jax
import numpy as np
import pytest
from dlc_shared.testing import assert_close, gpu

from flash_attention import flash_attention, reference_attention


def attention_ref(q, k, v):
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    t, d = q.shape[-2:]
    s = q @ k.transpose(0, 2, 1) / math.sqrt(d)
    s = np.where(np.tril(np.ones((t, t), bool)), s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    return (p / p.sum(-1, keepdims=True)) @ v


def qkv(shape, scale=1.0):
    return [scale * jax.random.normal(jax.random.key(i), shape) for i in range(3)]


@pytest.mark.parametrize("block_q, block_k", [(16, 16), (8, 16)])
def test_flash_attention_matches_float64(block_q, block_k):
    q, k, v = qkv((2, 32, 16))
    out = flash_attention(q, k, v, block_q=block_q, block_k=block_k)
    ref = attention_ref(q, k, v)
    assert np.std(ref[:, 1:]) > 0.1  # varied outputs (row 0 is v's row 0 by causality)
    # two chained reductions over at most T = 32 terms: scores (d = 16) then weights @ v (T)
    assert_close(out, ref, np.float32, terms=32, depth=2)
    assert_close(reference_attention(q, k, v), ref, np.float32, terms=32, depth=2)


def test_online_softmax_survives_large_scores():
    q, k, v = qkv((1, 32, 16), scale=8.0)  # scores of several hundred: exp overflows without the running max
    out = np.asarray(flash_attention(q, k, v, block_q=16, block_k=8))
    assert np.isfinite(out).all()
    # scores ~ 8 * 8 * sqrt(16) / 4: a score of size S carries S * eps of rounding into the softmax
    ref = attention_ref(q, k, v)
    assert_close(out, ref, np.float32, terms=32, depth=2,
                 scale=float(np.abs(ref).max()) * 8 * 8)


def test_first_row_attends_to_itself_only():
    q, k, v = qkv((1, 16, 16))
    out = flash_attention(q, k, v, block_q=8, block_k=8)
    assert np.array_equal(np.asarray(out)[0, 0], np.asarray(v)[0, 0])  # softmax over one score is exactly 1


@pytest.mark.parametrize("shapes, blocks", [(((1, 24, 16),) * 3, (16, 16)),
                                            (((1, 32, 16), (1, 16, 16), (1, 16, 16)), (16, 16))])
def test_bad_shapes_are_refused(shapes, blocks):
    with pytest.raises(ValueError):
        flash_attention(*(jax.numpy.ones(s) for s in shapes), *blocks)


@gpu
def test_flash_attention_compiles_for_the_gpu():
    if jax.default_backend() != "gpu":
        pytest.skip("JAX has no GPU backend here")
    q, k, v = qkv((4, 256, 64))
    out = flash_attention(q, k, v, block_q=64, block_k=64, interpret=False)
    # the GPU may run float32 dots in TF32 (10 mantissa bits, the same as float16's)
    assert_close(out, attention_ref(q, k, v), np.float16, terms=256, depth=2)
