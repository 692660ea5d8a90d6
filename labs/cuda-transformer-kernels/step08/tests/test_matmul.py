"""The GEMM twins against the float64 reference, the loads the tiles save, and the kernels' resources."""
import numpy as np
import pytest

import reference as ref
from dlc_shared.testing import assert_close
from matmul import matmul_naive_twin, matmul_tiled_twin, tiled_loads

SHAPES = [(1, 1, 1), (64, 64, 64), (33, 70, 45), (5, 3, 100)]


@pytest.mark.parametrize("M,N,K", SHAPES)
def test_tiled_twin_matches_the_reference(M, N, K):
    rng = np.random.default_rng(M * N * K)
    A, B = rng.standard_normal((M, K)).astype(np.float32), rng.standard_normal((K, N)).astype(np.float32)
    C, _ = matmul_tiled_twin(A, B)
    expected = ref.gemm(A, B)
    assert C.dtype == np.float32 and not np.isnan(C).any()
    # K float32 products summed in order: the rule with terms K, scale = the partial sums |A| @ |B|
    assert_close(C, expected, np.float32, terms=K, scale=float((np.abs(A) @ np.abs(B)).max()))


@pytest.mark.parametrize("M,N,K", SHAPES)
def test_tiled_and_naive_add_in_the_same_order(M, N, K):
    rng = np.random.default_rng(M + N + K)
    A, B = rng.standard_normal((M, K)).astype(np.float32), rng.standard_normal((K, N)).astype(np.float32)
    # the zero-filled edge tiles add exact zeros, so both orders are k = 0..K-1: equal bit for bit
    assert np.array_equal(matmul_tiled_twin(A, B)[0], matmul_naive_twin(A, B)[0])


@pytest.mark.parametrize("n,tile", [(64, 32), (64, 16), (96, 32)])
def test_tiles_divide_global_loads_by_the_tile(n, tile):
    A = B = np.ones((n, n), dtype=np.float32)
    _, loads = matmul_tiled_twin(A, B, tile)
    assert loads == tiled_loads(n, n, n, tile) == matmul_naive_twin(A, B)[1] // tile


def test_edge_tiles_load_only_what_is_there():
    A, B = np.ones((33, 45), np.float32), np.ones((45, 70), np.float32)
    _, loads = matmul_tiled_twin(A, B)
    # 2 x 3 blocks; each block loads its rows of A (all of K) and its columns of B (all of K)
    assert loads == 3 * 33 * 45 + 2 * 45 * 70


def test_tiled_kernel_has_two_tiles_in_shared_memory(built):
    k = built.kernel("matmul_tiled_kernel")
    assert k.shared_bytes == 2 * 32 * 32 * 4  # As and Bs: 8 KiB
    assert k.barriers == 1 and not k.spills
    assert built.kernel("matmul_naive_kernel").shared_bytes == 0


def test_matmul_kernels_fit_1024_threads(built):
    for name in ("matmul_naive_kernel", "matmul_tiled_kernel"):
        assert 0 < built.kernel(name).registers <= 64  # 1024 threads x 64 registers = an SM's 65536
