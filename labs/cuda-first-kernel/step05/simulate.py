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


def thread_coords(shape: tuple[int, ...], block: tuple[int, ...]):
    """Yield, block by block, the global (x, y[, z]) coordinates of every thread of a 2D/3D grid.

    `shape` is the array's (H, W) or (D, H, W); `block` is (blockDim.x, blockDim.y[, blockDim.z]):
    x runs along the last array axis, y along the one before, z along the first.
    """
    extents = shape[::-1]  # (W, H[, D]) in x, y, z order
    grid = [grid_size(e, b) for e, b in zip(extents, block)]
    local = np.stack(np.meshgrid(*[np.arange(b) for b in block], indexing="ij"), -1).reshape(-1, len(block))
    for block_idx in np.ndindex(*grid):
        yield np.asarray(block_idx) * np.asarray(block) + local  # blockIdx * blockDim + threadIdx, per axis


def add_grid_nd(a: np.ndarray, b: np.ndarray, block: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(c, writes) for the add_2d / add_3d kernels: one thread per element, bounds checked per axis."""
    c = np.full(a.shape, np.nan, dtype=np.float32)
    writes = np.zeros(a.shape, dtype=np.int64)
    extents = np.asarray(a.shape[::-1])
    for xyz in thread_coords(a.shape, block):
        xyz = xyz[np.all(xyz < extents, axis=1)]  # if (x < W && y < H [&& z < D])
        idx = tuple(xyz[:, ::-1].T)               # array index order: ([z,] y, x)
        c[idx] = a[idx] + b[idx]
        np.add.at(writes, idx, 1)
    return c, writes


def linear_index(coords: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The kernels' row-major offset: y * W + x in 2D, (z * H + y) * W + x in 3D."""
    x, y = coords[:, 0], coords[:, 1]
    if len(shape) == 2:
        return y * shape[1] + x
    return (coords[:, 2] * shape[1] + y) * shape[2] + x
