"""The RMSNorm forward kernel in NumPy (the twin), in the kernel's order and the inputs' dtype.

The sum of squares reduces each row the way softmax_kernel does (softmax.py's block_allreduce).
The twin works in any float dtype: float32 rounds like the kernel, float64 like the reference.
"""
from __future__ import annotations

import numpy as np

from softmax import block_allreduce, thread_partials

RMS_EPS = 1e-6


def block_sum(v: np.ndarray) -> np.ndarray:
    """block_allsum over each row: registers, then warps, then the 8 warp sums."""
    return block_allreduce(thread_partials(v, np.add, 0.0), np.add, 0.0)


def rmsnorm_forward_twin(x: np.ndarray, w: np.ndarray, eps: float = RMS_EPS) -> tuple[np.ndarray, np.ndarray]:
    """(y, rstd): rstd = 1 / sqrt(sum(x^2) / cols + eps) per row, y = x * rstd * w."""
    cols, dt = x.shape[1], x.dtype.type
    rstd = dt(1) / np.sqrt(block_sum(x * x) / dt(cols) + dt(eps))
    return x * rstd[:, None] * w, rstd


def rmsnorm_bytes(rows: int, cols: int) -> dict[str, int]:
    """Bytes each pass moves (float32). forward: read x, w; write y, rstd."""
    n = rows * cols
    return {"forward": 4 * (2 * n + cols + rows)}
