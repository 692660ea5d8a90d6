"""Float64 NumPy reference for attention: the answer every kernel and twin of this path must give.

Written the plain way (whole-array NumPy, float64), never the way a kernel blocks the work, so a
kernel and its reference share no loop structure and no rounding order.
"""
from __future__ import annotations

import numpy as np


def f64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def softmax(x) -> np.ndarray:
    """Row-wise softmax of the last axis, max subtracted."""
    x = f64(x)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention(q, k, v, causal: bool = False, scale: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """O = softmax(scale * Q K^T [+ causal mask]) V over (..., n, d) arrays, and each row's logsumexp.

    The logsumexp lse_i = log sum_j exp(s_ij) is what a backward pass needs to rebuild P from S.
    """
    q, k, v = f64(q), f64(k), f64(v)
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = scale * (q @ np.swapaxes(k, -1, -2))
    if causal:
        n_q, n_k = s.shape[-2:]
        s = np.where(np.tril(np.ones((n_q, n_k), dtype=bool)), s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    lse = (m + np.log(np.exp(s - m).sum(axis=-1, keepdims=True)))[..., 0]
    return np.exp(s - lse[..., None]) @ v, lse
