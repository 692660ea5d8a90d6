"""dlc_kernels.pallas.matmul (interpret=True on the CPU) against float64 NumPy; CUDA in a gpu test."""
import jax
import numpy as np
import pytest
from dlc_shared.testing import assert_close, gpu

from dlc_kernels.pallas import matmul


def rand(key, shape):
    return jax.random.normal(jax.random.key(key), shape)


@pytest.mark.parametrize("m, k, n", [(64, 96, 32), (32, 32, 64)])
def test_matmul(m, k, n):
    x, y = rand(0, (m, k)), rand(1, (k, n))
    ref = np.asarray(x, np.float64) @ np.asarray(y, np.float64)
    assert_close(matmul(x, y, block_m=32, block_n=32, block_k=32), ref, np.float32, terms=k)


@pytest.mark.parametrize("shapes, blocks", [(((32, 48), (48, 32)), (32, 32, 32)), (((32, 32), (16, 32)), (32, 32, 16))])
def test_bad_shapes_are_refused(shapes, blocks):
    with pytest.raises(ValueError):
        matmul(rand(0, shapes[0]), rand(1, shapes[1]), *blocks)


@gpu
def test_gpu_compile():
    if jax.default_backend() != "gpu":
        pytest.skip("JAX has no GPU backend here")
    x, y = rand(0, (256, 128)), rand(1, (128, 64))
    out = matmul(x, y, block_m=64, block_n=64, block_k=32, interpret=False)
    # the GPU may run float32 dots in TF32 (10 mantissa bits, the same as float16's)
    assert_close(out, np.asarray(x, np.float64) @ np.asarray(y, np.float64), np.float16, terms=128)
