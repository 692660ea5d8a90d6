"""The tiled matmul's loop structure in NumPy, and the global-memory loads it saves.

The mirror walks the same tiles as matmul_tiled_kernel (zero-padded at the edges) and counts
the elements each block loads from global memory, so the 2K/T claim is counted, not assumed.
"""
from __future__ import annotations

import numpy as np

MATMUL_VERSIONS = ["matmul_naive_kernel", "matmul_tiled_kernel", "matmul_regtile_kernel"]


def tiled_matmul(A: np.ndarray, B: np.ndarray, tile: int = 32) -> tuple[np.ndarray, int]:
    """(C, global_loads): C = A @ B tile by tile as the kernel does it, and how many elements of A and B
    all blocks together read from global memory (in-range loads only, as the kernel's guards do)."""
    M, K = A.shape
    N = B.shape[1]
    C = np.zeros((M, N), dtype=np.float64)
    loads = 0
    for r0 in range(0, M, tile):            # blockIdx.y
        for c0 in range(0, N, tile):        # blockIdx.x
            acc = np.zeros((tile, tile))
            for k0 in range(0, K, tile):    # the kernel's k0 loop
                As = np.zeros((tile, tile))
                Bs = np.zeros((tile, tile))
                a, b = A[r0:r0 + tile, k0:k0 + tile], B[k0:k0 + tile, c0:c0 + tile]
                As[:a.shape[0], :a.shape[1]] = a
                Bs[:b.shape[0], :b.shape[1]] = b
                loads += a.size + b.size
                acc += As @ Bs              # the inner k loop over the shared tiles
            C[r0:r0 + tile, c0:c0 + tile] = acc[:min(tile, M - r0), :min(tile, N - c0)]
    return C, loads


def naive_loads(M: int, N: int, K: int) -> int:
    """One thread per C element reads K elements of A and K of B."""
    return 2 * M * N * K


def tiled_loads(M: int, N: int, K: int, tile: int) -> int:
    """When T divides M, N, K: each of the (M/T)(N/T) blocks loads K/T tile pairs of T*T elements each."""
    return (M // tile) * (N // tile) * (K // tile) * 2 * tile * tile


def matmul_flops(M: int, N: int, K: int) -> int:
    return 2 * M * N * K


def regtile_writes(M: int, N: int, BM: int = 128, BN: int = 128, TM: int = 8, TN: int = 8) -> np.ndarray:
    """How many threads of matmul_regtile_kernel write each C element (the kernel's index math)."""
    writes = np.zeros((M, N), dtype=np.int64)
    tid = np.arange((BM // TM) * (BN // TN))
    tx, ty = tid % (BN // TN), tid // (BN // TN)
    i, j = np.meshgrid(np.arange(TM), np.arange(TN), indexing="ij")
    for by in range(-(-M // BM)):
        for bx in range(-(-N // BN)):
            r = (by * BM + ty[:, None, None] * TM + i).ravel()
            c = (bx * BN + tx[:, None, None] * TN + j).ravel()
            ok = (r < M) & (c < N)
            np.add.at(writes, (r[ok], c[ok]), 1)
    return writes


def fmas_per_shared_load(TM: int, TN: int) -> float:
    """Per k, a thread reads TM + TN values from shared memory and does TM * TN FMAs with them."""
    return TM * TN / (TM + TN)
