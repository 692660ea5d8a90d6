"""dlc_kernels.pallas rmsnorm and softmax (interpret=True on the CPU) against float64 NumPy; CUDA in gpu tests."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from dlc_shared.testing import assert_close, gpu

from dlc_kernels.pallas import rmsnorm, softmax


def rand(key, shape, scale=1.0):
    return scale * jax.random.normal(jax.random.key(key), shape)


def rmsnorm_ref(x, w, eps):
    x = np.asarray(x, np.float64)
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * np.asarray(w, np.float64)


def softmax_ref(x):
    x = np.asarray(x, np.float64)
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_rmsnorm():
    x, w = rand(0, (32, 64)), 1 + 0.3 * rand(1, (64,))
    ref = rmsnorm_ref(x, w, 1e-5)
    assert np.std(ref) > 0.1
    assert_close(rmsnorm(x, w, 1e-5, block_rows=8), ref, np.float32, terms=64)  # a mean of 64 squares


def test_rmsnorm_bf16_input_keeps_its_dtype():
    x, w = rand(2, (16, 64)).astype(jnp.bfloat16), 1 + 0.3 * rand(3, (64,))
    out = rmsnorm(x, w, block_rows=8)
    assert out.dtype == jnp.bfloat16
    # computed in float32 from the bf16 values, rounded once to bf16 at the end
    assert_close(out, rmsnorm_ref(x, w, 1e-5), jnp.bfloat16)


def test_softmax_large_logits():
    x = rand(4, (16, 96), scale=50.0)  # exp overflows float32 without the max subtraction
    out = softmax(x, block_rows=8)
    assert np.isfinite(np.asarray(out)).all()
    assert_close(out, softmax_ref(x), np.float32, terms=96)


@pytest.mark.parametrize("call", [lambda: rmsnorm(rand(0, (12, 8)), rand(1, (8,)), block_rows=8),
                                  lambda: rmsnorm(rand(0, (8, 8)), rand(1, (4,))),
                                  lambda: softmax(rand(0, (12, 8)), block_rows=8)])
def test_bad_shapes_are_refused(call):
    with pytest.raises(ValueError):
        call()


@gpu
def test_gpu_compile():
    if jax.default_backend() != "gpu":
        pytest.skip("JAX has no GPU backend here")
    x, w = rand(0, (256, 128)), 1 + 0.3 * rand(1, (128,))
    assert_close(rmsnorm(x, w, 1e-5, block_rows=16, interpret=False), rmsnorm_ref(x, w, 1e-5), np.float32, terms=128)
    assert_close(softmax(x, block_rows=16, interpret=False), softmax_ref(x), np.float32, terms=128)
