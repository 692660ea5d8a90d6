"""A NumPy mirror of the kernel's index math: run every thread's loop on the CPU and count the writes.

The GPU runs the threads at the same time; the mirror runs them one after another. The
result is the same because no thread reads what another writes: that is what makes the
loop safe to split. The write counter checks that the split covers every i exactly once.
"""
from __future__ import annotations

import numpy as np


def thread_indices(thread: int, threads: int, n: int) -> np.ndarray:
    """The i values thread `thread` handles in `for (i = threadIdx.x; i < n; i += blockDim.x)`."""
    return np.arange(thread, n, threads)


def vector_add_threads(a: np.ndarray, b: np.ndarray, threads: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(c, writes): c as the kernel computes it, writes[i] = how many threads wrote c[i]."""
    n = a.size
    c = np.full(n, np.nan, dtype=np.float32)  # poisoned: an index nobody writes stays NaN
    writes = np.zeros(n, dtype=np.int64)
    for t in range(threads):
        i = thread_indices(t, threads, n)
        c[i] = a[i] + b[i]
        writes[i] += 1
    return c, writes
