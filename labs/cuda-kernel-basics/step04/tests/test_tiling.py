"""The tiled matmul's loop structure against float64 NumPy, and its global loads counted by the mirror."""
import numpy as np
import pytest

from dlc_shared.testing import assert_close
from tiling import naive_loads, tiled_loads, tiled_matmul


@pytest.mark.parametrize("M,N,K,tile", [(1, 1, 1, 32), (64, 64, 64, 32), (33, 70, 45, 32), (5, 3, 100, 8)])
def test_tiled_loop_matches_numpy(M, N, K, tile):
    rng = np.random.default_rng(M * N * K)
    A, B = rng.standard_normal((M, K)), rng.standard_normal((K, N))
    C, _ = tiled_matmul(A, B, tile)
    assert_close(C, A @ B, np.float64, terms=K)  # K float64 products each, summed in another order


@pytest.mark.parametrize("n,tile", [(64, 32), (64, 16), (96, 32)])
def test_tiling_divides_global_loads_by_the_tile(n, tile):
    A = B = np.ones((n, n))
    _, loads = tiled_matmul(A, B, tile)
    assert loads == tiled_loads(n, n, n, tile) == naive_loads(n, n, n) // tile


def test_tiled_kernel_uses_two_tiles_of_shared_memory(built):
    k = built.kernel("matmul_tiled_kernel")
    assert k.shared_bytes == 2 * 32 * 32 * 4  # As and Bs, 8 KiB
    assert k.barriers == 1
    assert built.kernel("matmul_naive_kernel").shared_bytes == 0


def test_matmul_kernels_fit_1024_threads_without_spilling(built):
    for name in ("matmul_naive_kernel", "matmul_tiled_kernel"):
        k = built.kernel(name)
        assert 0 < k.registers <= 64 and not k.spills  # 1024 threads x 64 registers = the SM's 65536
