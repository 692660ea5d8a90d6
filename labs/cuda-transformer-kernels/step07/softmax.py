"""softmax_kernel's two block reductions and softmax_backward_kernel's one, in NumPy (twins), in the kernels' order.

Each reduction runs in three levels, as in the kernel: thread t of the 256 folds the elements
k = t, t + 256, ... into a register; each warp combines its 32 registers by the xor butterfly
(__shfl_xor_sync with masks 16, 8, 4, 2, 1); lane 0 of the 8 warps puts one value in shared
memory and every warp combines those 8 (plus 24 identities) by the same butterfly.
"""
from __future__ import annotations

import numpy as np

BLOCK, WARP = 256, 32
WARPS = BLOCK // WARP
MASKS = (16, 8, 4, 2, 1)


def shfl_xor(v: np.ndarray, mask: int) -> np.ndarray:
    """__shfl_xor_sync over the last axis: lane i gets lane i ^ mask's value."""
    return v[..., np.arange(WARP) ^ mask]


def warp_allreduce(v: np.ndarray, op) -> np.ndarray:
    """The butterfly: after the five masks every lane holds op over the warp's 32 values."""
    for mask in MASKS:
        v = op(v, shfl_xor(v, mask))
    return v


def thread_partials(x: np.ndarray, op, identity: float) -> np.ndarray:
    """(rows, 256): each thread's register after `for (k = tid; k < cols; k += 256) acc = op(acc, x[k])`."""
    rows, cols = x.shape
    acc = np.full((rows, BLOCK), identity, dtype=x.dtype)
    for k0 in range(0, cols, BLOCK):
        n = min(BLOCK, cols - k0)  # threads past the row's end skip this pass
        acc[:, :n] = op(acc[:, :n], x[:, k0:k0 + n])
    return acc


def block_allreduce(partials: np.ndarray, op, identity: float) -> np.ndarray:
    """(rows,): warps reduce their registers, lane 0s go through shared memory, every warp reduces the 8."""
    per_warp = warp_allreduce(partials.reshape(-1, WARPS, WARP), op)[..., 0]  # warp_max[warp] / warp_sum[warp]
    lanes = np.full((partials.shape[0], WARP), identity, dtype=partials.dtype)
    lanes[:, :WARPS] = per_warp  # lane < 8 reads shared memory, the rest the identity
    return warp_allreduce(lanes, op)[:, 0]


def softmax_twin(x: np.ndarray, subtract_max: bool = True) -> np.ndarray:
    """softmax_kernel's three passes in x's dtype; subtract_max=False is the textbook formula that overflows."""
    one = x.dtype.type(1)
    if subtract_max:
        m = block_allreduce(thread_partials(x, np.maximum, -np.inf), np.maximum, -np.inf)
    else:
        m = np.zeros(x.shape[0], dtype=x.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(x - m[:, None])
        s = block_allreduce(thread_partials(e, np.add, 0.0), np.add, 0.0)
        return e * (one / s)[:, None]


def softmax_backward_twin(dy: np.ndarray, y: np.ndarray) -> np.ndarray:
    """softmax_backward_kernel in dy's dtype: dx = y * (dy - sum(dy * y)), the sum in the kernel's order."""
    d = block_allreduce(thread_partials(dy * y, np.add, 0.0), np.add, 0.0)
    return y * (dy - d[:, None])


def softmax_bytes(rows: int, cols: int) -> int:
    """Bytes softmax must move: read x once, write y once (float32). The kernel reads x three times."""
    return 2 * 4 * rows * cols


def softmax_backward_bytes(rows: int, cols: int) -> int:
    """Bytes the backward must move: read dy and y once, write dx once (float32). The kernel reads both twice."""
    return 3 * 4 * rows * cols
