"""The three naive-attention kernels in NumPy (the twin), in float32 and in the kernels' order.

scores_kernel: each score adds its d products left to right, then multiplies by the scale.
softmax_rows_kernel: lane t of a warp takes columns t, t + 32, ...; the warp combines its 32 values
by the xor butterfly (masks 16, 8, 4, 2, 1), once for the max and once for the sum.
pv_kernel: each output adds its n products P[i, j] V[j, c] for j = 0..n-1.
"""
from __future__ import annotations

import numpy as np

WARP, MASKS = 32, (16, 8, 4, 2, 1)


def warp_allreduce(v: np.ndarray, op) -> np.ndarray:
    """The butterfly over the last axis (32 lanes): lane i combines with lane i ^ mask, five times."""
    for mask in MASKS:
        v = op(v, v[..., np.arange(WARP) ^ mask])
    return v[..., 0]


def lane_partials(x: np.ndarray, op, identity: float) -> np.ndarray:
    """(..., 32): lane t's register after `for (j = t; j < n; j += 32) acc = op(acc, x[j])`."""
    n = x.shape[-1]
    acc = np.full((*x.shape[:-1], WARP), identity, dtype=x.dtype)
    for j0 in range(0, n, WARP):
        w = min(WARP, n - j0)
        acc[..., :w] = op(acc[..., :w], x[..., j0:j0 + w])
    return acc


def scores_twin(q: np.ndarray, k: np.ndarray, scale: float) -> np.ndarray:
    """(heads, n, n) = scale * Q K^T with the d products added in order c = 0..d-1."""
    acc = np.zeros((*q.shape[:-1], k.shape[-2]), dtype=q.dtype)
    for c in range(q.shape[-1]):
        acc += q[..., :, None, c] * k[..., None, :, c]
    return acc * q.dtype.type(scale)


def softmax_rows_twin(s: np.ndarray) -> np.ndarray:
    """softmax_rows_kernel: the warp max, the warp sum of exp(s - max), then exp(s - max) * (1 / sum)."""
    m = warp_allreduce(lane_partials(s, np.maximum, -np.inf), np.maximum)[..., None]
    l = warp_allreduce(lane_partials(np.exp(s - m), np.add, 0.0), np.add)[..., None]
    return np.exp(s - m) * (s.dtype.type(1) / l)


def pv_twin(p: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(heads, n, d) = P V with the n products added in order j = 0..n-1."""
    acc = np.zeros((*p.shape[:-1], v.shape[-1]), dtype=p.dtype)
    for j in range(p.shape[-1]):
        acc += p[..., :, j, None] * v[..., None, j, :]
    return acc


def attention_naive_twin(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The three kernels one after another, in q's dtype, scale 1/sqrt(d)."""
    s = scores_twin(q, k, 1.0 / np.sqrt(q.shape[-1]))
    return pv_twin(softmax_rows_twin(s), v)


def scores_bytes(heads: int, n: int, itemsize: int = 4) -> int:
    """The (heads, n, n) score buffer naive attention writes to global memory."""
    return heads * n * n * itemsize


def naive_hbm_elements(n: int, d: int) -> int:
    """Elements one head moves through HBM if each kernel reads its inputs once and writes its output once:
    scores reads Q, K (2nd) and writes S (n^2); softmax reads S and writes P (2n^2); PV reads P, V and
    writes O (n^2 + 2nd). Caches can only lower what the kernels really move, never below this."""
    return 4 * n * d + 4 * n * n
