"""The GEMM kernels' loops in NumPy (twins), and the global-memory loads the tiles save.

The tiled twin walks the same blocks and K-steps as matmul_tiled_kernel, with zero-filled tiles
at the edges, and adds each thread's products in the kernel's order (k = 0, 1, ..., K - 1) in
the inputs' dtype. It counts the in-range elements every block loads from global memory, so the
2K / T claim is counted, not assumed.
"""
from __future__ import annotations

import numpy as np

TILE = 32
VERSIONS = ["naive", "tiled"]


def matmul_naive_twin(A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, int]:
    """(C, global_loads): one thread per C element, k ascending; every thread loads K of A and K of B."""
    M, K = A.shape
    acc = np.zeros((M, B.shape[1]), dtype=np.result_type(A, B))
    for k in range(K):  # all threads at once, each adding its k-th product
        acc += A[:, k:k + 1] * B[k:k + 1, :]
    return acc, 2 * M * B.shape[1] * K


def matmul_tiled_twin(A: np.ndarray, B: np.ndarray, tile: int = TILE) -> tuple[np.ndarray, int]:
    """(C, global_loads): matmul_tiled_kernel block by block, tiles staged in zero-filled (tile, tile) arrays."""
    M, K = A.shape
    N = B.shape[1]
    dtype = np.result_type(A, B)
    C = np.full((M, N), np.nan, dtype=dtype)
    loads = 0
    for r0 in range(0, M, tile):              # blockIdx.y
        for c0 in range(0, N, tile):          # blockIdx.x
            acc = np.zeros((tile, tile), dtype=dtype)
            for k0 in range(0, K, tile):      # the kernel's k0 loop
                As, Bs = np.zeros((tile, tile), dtype), np.zeros((tile, tile), dtype)
                a, b = A[r0:r0 + tile, k0:k0 + tile], B[k0:k0 + tile, c0:c0 + tile]
                As[:a.shape[0], :a.shape[1]], Bs[:b.shape[0], :b.shape[1]] = a, b
                loads += a.size + b.size
                for k in range(tile):         # the inner loop over the shared tiles
                    acc += As[:, k:k + 1] * Bs[k:k + 1, :]
            C[r0:r0 + tile, c0:c0 + tile] = acc[:min(tile, M - r0), :min(tile, N - c0)]
    return C, loads


def tiled_loads(M: int, N: int, K: int, tile: int = TILE) -> int:
    """When the tile divides M, N, K: (M/T)(N/T) blocks each load K/T pairs of T x T tiles."""
    return (M // tile) * (N // tile) * (K // tile) * 2 * tile * tile


def matmul_flops(M: int, N: int, K: int) -> int:
    return 2 * M * N * K


def flop_per_global_byte(M: int, N: int, K: int, loads: int) -> float:
    """Arithmetic intensity against global loads only (float32, caches ignored)."""
    return matmul_flops(M, N, K) / (4 * loads)
