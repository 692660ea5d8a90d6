"""flash_forward_kernel in NumPy (the twin): the same blocks, the same loop order, the same rescaling,
and a counter of the elements it loads from and stores to global memory.

Per head and per block of BR query rows: load the Q tile; for each tile of BC keys load K and V,
compute the tile's scores (each thread of a row adds its `cols` products in order, then the threads'
partial sums are added), take the new running max, rescale l and
acc by exp(m_old - m_new), then add the tile's exp(s - m_new) terms key by key. At the end
O = acc / l and lse = m + log l. Nothing of size n x n is ever formed.
"""
from __future__ import annotations

import numpy as np


def flash_forward_twin(q: np.ndarray, k: np.ndarray, v: np.ndarray, br: int, bc: int,
                       scale: float | None = None, cols: int = 64) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """(O, lse, {"reads", "writes"}) in q's dtype for (heads, n, d) inputs."""
    heads, n, d = q.shape
    dt = q.dtype.type
    scale = dt(1.0 / np.sqrt(d) if scale is None else scale)
    o = np.zeros_like(q)
    lse = np.zeros((heads, n), dtype=q.dtype)
    io = {"reads": 0, "writes": 0}
    for h in range(heads):
        for r0 in range(0, n, br):
            qt = q[h, r0:r0 + br]
            io["reads"] += qt.size
            rows = len(qt)
            m = np.full(rows, -np.inf, dtype=q.dtype)
            l = np.zeros(rows, dtype=q.dtype)
            acc = np.zeros((rows, d), dtype=q.dtype)
            for c0 in range(0, k.shape[1], bc):
                kt, vt = k[h, c0:c0 + bc], v[h, c0:c0 + bc]
                io["reads"] += kt.size + vt.size
                s = np.zeros((rows, len(kt)), dtype=q.dtype)
                for part in range(0, d, cols):  # FLASH_COLS columns per thread, then the shuffle adds
                    dot = np.zeros_like(s)
                    for c in range(part, min(part + cols, d)):
                        dot += qt[:, None, c] * kt[None, :, c]
                    s += dot
                s *= scale
                m_new = np.maximum(m, s.max(axis=1))
                alpha = np.exp(m - m_new)
                l *= alpha
                acc *= alpha[:, None]
                for jj in range(len(kt)):
                    p = np.exp(s[:, jj] - m_new)
                    l += p
                    acc += p[:, None] * vt[jj]
                m = m_new
            o[h, r0:r0 + br] = acc * (dt(1) / l)[:, None]
            lse[h, r0:r0 + br] = m + np.log(l)
            io["writes"] += acc.size + rows
    return o, lse, io
