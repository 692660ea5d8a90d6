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
                       scale: float | None = None, cols: int = 64, causal: bool = False) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """(O, lse, {"reads", "writes", "tiles"}) in q's dtype for (heads, n, d) inputs; tiles = K, V tiles visited."""
    heads, n, d = q.shape
    dt = q.dtype.type
    scale = dt(1.0 / np.sqrt(d) if scale is None else scale)
    o = np.zeros_like(q)
    lse = np.zeros((heads, n), dtype=q.dtype)
    io = {"reads": 0, "writes": 0, "tiles": 0}
    for h in range(heads):
        for r0 in range(0, n, br):
            qt = q[h, r0:r0 + br]
            io["reads"] += qt.size
            rows = len(qt)
            m = np.full(rows, -np.inf, dtype=q.dtype)
            l = np.zeros(rows, dtype=q.dtype)
            acc = np.zeros((rows, d), dtype=q.dtype)
            kv_end = min(k.shape[1], r0 + br) if causal else k.shape[1]
            for c0 in range(0, kv_end, bc):
                kt, vt = k[h, c0:c0 + bc], v[h, c0:c0 + bc]
                io["reads"] += kt.size + vt.size
                io["tiles"] += 1
                s = np.zeros((rows, len(kt)), dtype=q.dtype)
                for part in range(0, d, cols):  # FLASH_COLS columns per thread, then the shuffle adds
                    dot = np.zeros_like(s)
                    for c in range(part, min(part + cols, d)):
                        dot += qt[:, None, c] * kt[None, :, c]
                    s += dot
                s *= scale
                if causal:  # key c0 + jj is in the future of query r0 + row
                    future = np.arange(c0, c0 + len(kt))[None, :] > np.arange(r0, r0 + rows)[:, None]
                    s[future] = -np.inf
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


def causal_tiles(n: int, br: int, bc: int) -> int:
    """K, V tiles one head visits with causal skipping: block i stops at its last query min(n, (i + 1) BR)."""
    return sum(-(-min(n, r0 + br) // bc) for r0 in range(0, n, br))
