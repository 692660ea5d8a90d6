"""Float64 NumPy references for every kernel of this path: the answers the CUDA kernels must give.

Written the plain way (whole-array NumPy, float64), never the way a kernel blocks the work,
so a kernel and its reference share no loop structure and no rounding order.
"""
from __future__ import annotations

import numpy as np

RMS_EPS = 1e-6


def f64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def transpose(a) -> np.ndarray:
    """out[j, i] = a[i, j]."""
    return np.ascontiguousarray(f64(a).T)


def gemm(a, b) -> np.ndarray:
    """C (M, N) = A (M, K) @ B (K, N)."""
    return f64(a) @ f64(b)


def gemv(w, x) -> np.ndarray:
    """y (M,) = W (M, K) @ x (K,): a matmul with one column, as a Linear layer does for one token."""
    return f64(w) @ f64(x)


def softmax(x) -> np.ndarray:
    """Row-wise softmax, exp(x - max) / sum: subtracting the row max changes nothing mathematically."""
    x = f64(x)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def rmsnorm(x, w, eps: float = RMS_EPS) -> tuple[np.ndarray, np.ndarray]:
    """(y, rstd): y = x * rstd * w per row, rstd = 1 / sqrt(mean(x^2) + eps) (saved for backward)."""
    x, w = f64(x), f64(w)
    rstd = 1.0 / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps)
    return x * rstd * w, rstd[..., 0]


def rmsnorm_backward(x, w, dy, eps: float = RMS_EPS) -> tuple[np.ndarray, np.ndarray]:
    """(dx, dw) of y = x * rstd * w, by the chain rule through rstd (N = row length):

        dw = sum over rows of dy * x * rstd
        dx = rstd * (dy * w) - x * rstd^3 / N * sum over the row of (dy * w * x)
    """
    x, w, dy = f64(x), f64(w), f64(dy)
    _, rstd = rmsnorm(x, w, eps)
    rstd = rstd[..., None]
    g = dy * w
    dx = rstd * g - x * rstd**3 / x.shape[-1] * (g * x).sum(axis=-1, keepdims=True)
    dw = (dy * x * rstd).reshape(-1, x.shape[-1]).sum(axis=0)
    return dx, dw
