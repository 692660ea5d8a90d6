"""The GEMV kernels' sums in NumPy (twins): which products each lane adds, and in what order.

The thread-per-row twin adds a row left to right. The warp-per-row twin gives lane i the products
at k = i, i + 32, ... (one partial sum per lane, in the inputs' dtype), then adds the 32 partial
sums by __shfl_down_sync with offsets 16, 8, 4, 2, 1, as warp_sum does; lane 0 holds the result.
"""
from __future__ import annotations

import numpy as np

WARP = 32
OFFSETS = (16, 8, 4, 2, 1)
VERSIONS = ["thread/row", "warp/row"]


def shfl_down(v: np.ndarray, delta: int) -> np.ndarray:
    """__shfl_down_sync over the last axis: lane i gets lane i + delta's value (its own past lane 31)."""
    src = np.arange(WARP) + delta
    return v[..., np.where(src < WARP, src, np.arange(WARP))]


def gemv_thread_twin(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """gemv_thread_kernel: every row summed k = 0, 1, ..., K - 1."""
    acc = np.zeros(W.shape[0], dtype=np.result_type(W, x))
    for k in range(W.shape[1]):
        acc += W[:, k] * x[k]
    return acc


def lane_partials(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """(M, 32): lane i's register after the loop `for (k = lane; k < K; k += 32) acc += w[k] * x[k]`."""
    M, K = W.shape
    acc = np.zeros((M, WARP), dtype=np.result_type(W, x))
    for k0 in range(0, K, WARP):
        n = min(WARP, K - k0)  # lanes past K skip this pass
        acc[:, :n] += W[:, k0:k0 + n] * x[k0:k0 + n]
    return acc


def gemv_warp_twin(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """gemv_warp_kernel: lane partial sums, then the shuffle tree; lane 0's value per row."""
    v = lane_partials(W, x)
    for offset in OFFSETS:
        v = v + shfl_down(v, offset)
    return v[:, 0]


def warp_read_sectors(K: int, version: int) -> int:
    """32-byte sectors of one warp's read of W at one step of its loop."""
    lane = np.arange(WARP)
    addresses = lane * K * 4 if version == 0 else lane * 4  # 32 rows at one k, or 32 k of one row
    return len(np.unique(addresses // 32))


def gemv_bytes(M: int, K: int) -> int:
    """Bytes GEMV must move: W once, x once, y once (float32)."""
    return 4 * (M * K + K + M)


def gemv_flops(M: int, K: int) -> int:
    return 2 * M * K
