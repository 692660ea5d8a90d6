"""dlc_kernels.pallas.flash_attention (interpret=True on the CPU) against float64 NumPy; CUDA in a gpu test."""
import math

import jax
import numpy as np
import pytest
from dlc_shared.testing import assert_close, gpu

from dlc_kernels.pallas import flash_attention


def attention_ref(q, k, v):
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    t, d = q.shape[-2:]
    s = np.where(np.tril(np.ones((t, t), bool)), q @ k.transpose(0, 2, 1) / math.sqrt(d), -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    return (p / p.sum(-1, keepdims=True)) @ v


def qkv(shape):
    return [jax.random.normal(jax.random.key(i), shape) for i in range(3)]


@pytest.mark.parametrize("block_q, block_k", [(16, 16), (8, 16)])
def test_flash_attention(block_q, block_k):
    q, k, v = qkv((2, 32, 16))
    ref = attention_ref(q, k, v)
    assert np.std(ref[:, 1:]) > 0.1
    # two chained reductions: scores over d = 16, weights @ v over at most T = 32
    assert_close(flash_attention(q, k, v, block_q=block_q, block_k=block_k), ref, np.float32, terms=32, depth=2)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError):
        flash_attention(*qkv((1, 24, 16)), block_q=16, block_k=16)


@gpu
def test_gpu_compile():
    if jax.default_backend() != "gpu":
        pytest.skip("JAX has no GPU backend here")
    q, k, v = qkv((4, 256, 64))
    out = flash_attention(q, k, v, block_q=64, block_k=64, interpret=False)
    # the GPU may run float32 dots in TF32 (10 mantissa bits, the same as float16's)
    assert_close(out, attention_ref(q, k, v), np.float16, terms=256, depth=2)
