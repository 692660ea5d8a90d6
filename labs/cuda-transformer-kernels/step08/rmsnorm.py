"""The RMSNorm kernels in NumPy (twins), in the kernels' order and the inputs' dtype.

Forward and dx reduce each row the way softmax_kernel does (softmax.py's block_allreduce);
dw adds the rows one after another for each column, as one thread per column does.
The twins work in any float dtype: in float64 they are the CPU backend step 7's autograd
Function is gradchecked with.
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


def rmsnorm_backward_twin(dy: np.ndarray, x: np.ndarray, w: np.ndarray, rstd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dx, dw) from dy and the saved rstd, the kernels' formulas and orders."""
    cols, dt = x.shape[1], x.dtype.type
    r = rstd[:, None]
    c = r * r * r / dt(cols) * block_sum(dy * w * x)[:, None]
    dx = r * (dy * w) - x * c
    dw = np.zeros(cols, dtype=x.dtype)
    for i in range(x.shape[0]):  # every column's thread, rows ascending
        dw += dy[i] * x[i] * rstd[i]
    return dx, dw


def rmsnorm_bytes(rows: int, cols: int) -> dict[str, int]:
    """Bytes each pass moves (float32). forward: read x, w; write y, rstd. backward: the dx kernel reads dy, x, w,
    rstd and writes dx; the dw kernel reads dy, x, rstd again and writes dw."""
    n = rows * cols
    return {"forward": 4 * (2 * n + cols + rows), "backward": 4 * (2 * n + cols + rows + n) + 4 * (2 * n + rows + cols)}
