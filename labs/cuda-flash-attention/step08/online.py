"""Online softmax in NumPy: the running (max, sum) of one pass, the rule that merges two partial
pairs, and online_softmax_kernel's twin (lanes walk their columns, the butterfly merges the lanes).

After elements x_1..x_t the pair is (m_t, l_t) with m_t = max x_j and l_t = sum_j exp(x_j - m_t).
One more element x: m' = max(m, x), l' = l * exp(m - m') + exp(x - m'). Two partial pairs merge the
same way, so the row can be cut anywhere and the pieces done in any order.
"""
from __future__ import annotations

import numpy as np

WARP, MASKS = 32, (16, 8, 4, 2, 1)


def update(m: np.ndarray, l: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """online_update: one more element (finite) per row."""
    m_new = np.maximum(m, x)
    return m_new, l * np.exp(m - m_new) + np.exp(x - m_new)


def merge(m: np.ndarray, l: np.ndarray, m2: np.ndarray, l2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """online_merge: both sums brought to the larger max; two empty pairs (-inf, 0) stay empty."""
    m_new = np.maximum(m, m2)
    with np.errstate(invalid="ignore"):
        l_new = l * np.exp(m - m_new) + l2 * np.exp(m2 - m_new)
    return m_new, np.where(m_new == -np.inf, l.dtype.type(0), l_new)


def running_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(m, l) of each row after one left-to-right pass."""
    m = np.full(x.shape[:-1], -np.inf, dtype=x.dtype)
    l = np.zeros(x.shape[:-1], dtype=x.dtype)
    for j in range(x.shape[-1]):
        m, l = update(m, l, x[..., j])
    return m, l


def online_softmax_twin(x: np.ndarray) -> np.ndarray:
    """online_softmax_kernel in x's dtype: lane t updates over columns t, t + 32, ...; the butterfly merges."""
    n = x.shape[-1]
    m = np.full((*x.shape[:-1], WARP), -np.inf, dtype=x.dtype)
    l = np.zeros((*x.shape[:-1], WARP), dtype=x.dtype)
    for j0 in range(0, n, WARP):
        w = min(WARP, n - j0)
        m[..., :w], l[..., :w] = update(m[..., :w], l[..., :w], x[..., j0:j0 + w])
    for mask in MASKS:
        partner = np.arange(WARP) ^ mask
        m, l = merge(m, l, m[..., partner], l[..., partner])
    m, l = m[..., :1], l[..., :1]
    return np.exp(x - m) * (x.dtype.type(1) / l)


def softmax_row_bytes(rows: int, n: int, reads: int) -> int:
    """float32 bytes a softmax moves when it reads the row `reads` times and writes it once."""
    return (reads + 1) * 4 * rows * n
