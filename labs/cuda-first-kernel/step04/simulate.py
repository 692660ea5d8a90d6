"""A NumPy mirror of the kernel's index math: run every block's threads on the CPU and count the writes.

The GPU runs the threads at the same time; the mirror runs them one block after another. The
result is the same because no thread reads what another writes. The counters check that the
grid covers every i exactly once, and count the writes a missing bounds check would make.
"""
from __future__ import annotations

import numpy as np


def grid_size(n: int, block: int) -> int:
    """ceil(n / block): enough blocks to give every element a thread."""
    return (n + block - 1) // block


def global_index(block_idx: int, thread_idx: np.ndarray, block_dim: int) -> np.ndarray:
    """i = blockIdx.x * blockDim.x + threadIdx.x."""
    return block_idx * block_dim + thread_idx


def vector_add_grid(a: np.ndarray, b: np.ndarray, block: int = 256,
                    bounds_check: bool = True) -> tuple[np.ndarray, np.ndarray, int]:
    """(c, writes, out_of_bounds): c as the kernel computes it, writes[i] = how many threads wrote c[i],
    and how many threads would have written past the end of c."""
    n = a.size
    c = np.full(n, np.nan, dtype=np.float32)  # poisoned: an index nobody writes stays NaN
    writes = np.zeros(n, dtype=np.int64)
    out_of_bounds = 0
    threads = np.arange(block)
    for block_idx in range(grid_size(n, block)):
        i = global_index(block_idx, threads, block)
        inside = i < n
        if not bounds_check:
            out_of_bounds += int(np.sum(~inside))  # on a GPU: writes into whatever follows c
        i = i[inside]
        c[i] = a[i] + b[i]
        writes[i] += 1
    return c, writes, out_of_bounds
