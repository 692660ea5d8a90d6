"""A NumPy model of warps in a 2D block: who shares a warp, which branches diverge, which loads coalesce.

Everything here follows from one rule: a block's threads are numbered x fastest,
tid = x + y * blockDim.x, and each run of 32 consecutive tids is one warp.
"""
from __future__ import annotations

import numpy as np

WARP = 32
SECTOR_BYTES = 32  # the unit in which a warp's loads are served from L2/DRAM


def threads(bx: int, by: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, tid) of every thread of a bx x by block, in tid order."""
    tid = np.arange(bx * by)
    return tid % bx, tid // bx, tid


def lanes_and_warps(bx: int, by: int) -> tuple[np.ndarray, np.ndarray]:
    _, _, tid = threads(bx, by)
    return tid % WARP, tid // WARP


def present_mask(bx: int, by: int) -> np.ndarray:
    """Per thread: the bit mask of lanes that exist in its warp (the last warp may be partial)."""
    lane, warp = lanes_and_warps(bx, by)
    size = np.bincount(warp)[warp]  # threads in this thread's warp
    return ((np.uint64(1) << size.astype(np.uint64)) - np.uint64(1)).astype(np.uint32)


def branch_taken(bx: int, by: int, branch: int) -> np.ndarray:
    """The kernel's branch conditions: 0 even x, 1 even warp, 2 even y."""
    x, y, tid = threads(bx, by)
    return [x % 2 == 0, (tid // WARP) % 2 == 0, y % 2 == 0][branch]


def ballots(bx: int, by: int, branch: int) -> np.ndarray:
    """Per thread: __ballot_sync over its warp of the branch condition."""
    lane, warp = lanes_and_warps(bx, by)
    bits = branch_taken(bx, by, branch).astype(np.uint64) << lane.astype(np.uint64)
    per_warp = np.zeros(warp.max() + 1, dtype=np.uint64)
    np.bitwise_or.at(per_warp, warp, bits)
    return per_warp[warp].astype(np.uint32)


def divergent_warps(bx: int, by: int, branch: int) -> int:
    """Warps whose lanes disagree: they run both sides of the branch, one after the other."""
    ballot, present = ballots(bx, by, branch), present_mask(bx, by)
    _, warp = lanes_and_warps(bx, by)
    split = (ballot != 0) & (ballot != present)
    return int(np.unique(warp[split]).size)


def lane_utilization(block_threads: int) -> float:
    """Useful lanes over issued lanes: a block of 48 threads still occupies two full warps."""
    return block_threads / (WARP * -(-block_threads // WARP))


def sectors_per_warp(bx: int, by: int, row_floats: int = 4096) -> float:
    """Mean 32-byte sectors per warp when thread (x, y) loads a[y * row_floats + x] (float32).

    A warp whose 32 lanes read 128 contiguous bytes needs 4 sectors, the minimum; a warp spread
    over many rows needs a sector per row, most of it wasted.
    """
    x, y, tid = threads(bx, by)
    sector = (y * row_floats + x) * 4 // SECTOR_BYTES
    warp = tid // WARP
    return float(np.mean([np.unique(sector[warp == w]).size for w in np.unique(warp)]))
