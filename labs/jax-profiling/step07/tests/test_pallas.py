"""Each Pallas kernel, run by the interpreter on the CPU, against a float64 NumPy reference.

The GPU tests compile the same kernels for CUDA (interpret=False); they skip on a CPU machine.
"""
import jax
import numpy as np
import pytest
from dlc_shared.testing import assert_close, gpu

from pallas_kernels import matmul, rmsnorm, softmax


def rand(key, shape, scale=1.0):
    return scale * jax.random.normal(jax.random.key(key), shape)


def rmsnorm_ref(x, w, eps):
    x = np.asarray(x, np.float64)
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * np.asarray(w, np.float64)


def softmax_ref(x):
    x = np.asarray(x, np.float64)
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_rmsnorm_matches_float64():
    x, w = rand(0, (32, 64)), 1 + 0.3 * rand(1, (64,))
    out = rmsnorm(x, w, 1e-5, block_rows=8)  # 4 grid points
    ref = rmsnorm_ref(x, w, 1e-5)
    assert np.std(ref) > 0.1
    assert_close(out, ref, np.float32, terms=64)  # a mean of 64 squares, then rsqrt and two products


def test_softmax_matches_float64_even_for_large_logits():
    x = rand(2, (16, 96), scale=50.0)  # exp(50 * 3) overflows float32 without the max subtraction
    out = softmax(x, block_rows=8)
    ref = softmax_ref(x)
    assert np.isfinite(np.asarray(out)).all()
    assert_close(out, ref, np.float32, terms=96)
    assert_close(np.asarray(out).sum(-1), np.ones(16), np.float32, terms=96)


@pytest.mark.parametrize("m, k, n", [(64, 96, 32), (32, 32, 64)])
def test_blocked_matmul_matches_float64(m, k, n):
    x, y = rand(3, (m, k)), rand(4, (k, n))
    out = matmul(x, y, block_m=32, block_n=32, block_k=32)  # K = 96 walks three blocks
    ref = np.asarray(x, np.float64) @ np.asarray(y, np.float64)
    assert_close(out, ref, np.float32, terms=k)


@pytest.mark.parametrize("call", [lambda: rmsnorm(rand(0, (12, 8)), rand(1, (8,)), block_rows=8),
                                  lambda: softmax(rand(0, (12, 8)), block_rows=8),
                                  lambda: matmul(rand(0, (32, 48)), rand(1, (48, 32)), block_k=32),
                                  lambda: matmul(rand(0, (32, 32)), rand(1, (16, 32)))])
def test_shapes_that_do_not_tile_are_refused(call):
    with pytest.raises(ValueError):
        call()


def on_gpu():
    if jax.default_backend() != "gpu":
        pytest.skip("JAX has no GPU backend here")


@gpu
def test_kernels_compile_for_the_gpu():
    on_gpu()
    x, w = rand(0, (256, 128)), 1 + 0.3 * rand(1, (128,))
    assert_close(rmsnorm(x, w, 1e-5, block_rows=16, interpret=False), rmsnorm_ref(x, w, 1e-5), np.float32, terms=128)
    assert_close(softmax(x, block_rows=16, interpret=False), softmax_ref(x), np.float32, terms=128)
    y = rand(2, (128, 64))
    out = matmul(x, y, block_m=64, block_n=64, block_k=32, interpret=False)
    # the GPU may run float32 dots in TF32 (10 mantissa bits, the same as float16's)
    assert_close(out, np.asarray(x, np.float64) @ np.asarray(y, np.float64), np.float16, terms=128)
