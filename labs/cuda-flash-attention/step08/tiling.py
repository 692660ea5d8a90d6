"""Tiling in NumPy: block sizes from a shared-memory budget, and scores_tiled_kernel's twin with a
counter of the floats it loads from global memory.

Blocks are sized from the on-chip memory M (in floats) so that a Q, a K, a V and an O tile of B rows
fit together: B = M / (4 d). FlashAttention's Algorithm 1 (Dao et al. 2022) uses BC = M / (4 d) and
BR = min(BC, d) because its outer loop runs over K, V blocks; our loop runs over Q blocks (the order of
FlashAttention-2), where a large BR is what saves reads, so here BR = BC.
"""
from __future__ import annotations

import numpy as np

BUDGET_BYTES = 32 * 1024  # TILE_BUDGET in tiles.cuh


def block_sizes(budget_bytes: int, d: int, itemsize: int = 4) -> tuple[int, int]:
    """(BR, BC) for head dimension d: both floor(M / (4 d)), with M = budget / itemsize."""
    b = budget_bytes // itemsize // (4 * d)
    if b < 1:
        raise ValueError(f"a budget of {budget_bytes} B cannot hold four rows of d = {d}")
    return b, b


def tile_bytes(br: int, bc: int, d: int) -> int:
    """Static shared memory of scores_tiled_kernel: qs[BR][D + 1] and ks[BC][D] in float32."""
    return 4 * (br * (d + 1) + bc * d)


def tiled_scores_twin(q: np.ndarray, k: np.ndarray, scale: float, br: int, bc: int) -> tuple[np.ndarray, int]:
    """(S, floats loaded from global memory): per head, per block of BR rows, the Q tile once and each
    K tile once; each score adds its d products in order c = 0..d-1, as the kernel does."""
    heads, n, d = q.shape
    s = np.zeros((heads, n, n), dtype=q.dtype)
    loads = 0
    for h in range(heads):
        for r0 in range(0, n, br):
            qt = q[h, r0:r0 + br]
            loads += qt.size
            for c0 in range(0, n, bc):
                kt = k[h, c0:c0 + bc]
                loads += kt.size
                acc = np.zeros((len(qt), len(kt)), dtype=q.dtype)
                for c in range(d):
                    acc += qt[:, None, c] * kt[None, :, c]
                s[h, r0:r0 + br, c0:c0 + bc] = acc * q.dtype.type(scale)
    return s, loads


def tiled_loads(n: int, d: int, br: int) -> int:
    """Floats one head loads: Q once (n d) and all of K once per block of rows (ceil(n / BR) n d)."""
    return n * d + -(-n // br) * n * d


def naive_score_loads(n: int, d: int) -> int:
    """scores_kernel: every one of the n^2 threads reads its d floats of Q and d of K."""
    return 2 * n * n * d
