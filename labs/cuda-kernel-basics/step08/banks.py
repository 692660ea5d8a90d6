"""Shared-memory bank conflicts, counted from the word addresses one warp uses in one instruction.

Shared memory is 32 banks, each 4 bytes wide: word w lives in bank w % 32. A warp's access
takes as many passes as the largest number of *different* words it asks of one bank
(lanes reading the same word are served by one broadcast). 1 pass = conflict-free.
"""
from __future__ import annotations

import numpy as np

BANKS = 32
WARP = 32


def conflict_ways(words: np.ndarray) -> int:
    """Passes one warp access needs: max over banks of the distinct words requested from it."""
    words = np.unique(np.asarray(words))
    return int(np.bincount(words % BANKS, minlength=BANKS).max())


def tile_words(row: np.ndarray, col: np.ndarray, tile: int = 32, pad: int = 0) -> np.ndarray:
    """Word index of tile[row][col] in `__shared__ float tile[tile][tile + pad]` (row-major)."""
    return row * (tile + pad) + col


def transpose_tile_accesses(pad: int, j: int = 0, ty: int = 0) -> dict[str, np.ndarray]:
    """Words of warp `ty` (threadIdx.y = ty, lanes = threadIdx.x) in the kernel's two tile accesses."""
    lane = np.arange(WARP)
    return {"store tile[ty + j][tx]": tile_words(np.full(WARP, ty + j), lane, pad=pad),
            "load tile[tx][ty + j]": tile_words(lane, np.full(WARP, ty + j), pad=pad)}


def transpose_smem_mirror(a: np.ndarray, tile: int = 32, block_rows: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """(out, writes): transpose_smem_kernel's index math run block by block in NumPy."""
    rows, cols = a.shape
    out = np.full((cols, rows), np.nan, dtype=a.dtype)
    writes = np.zeros(out.shape, dtype=np.int64)
    tx, ty = np.meshgrid(np.arange(tile), np.arange(block_rows))
    for by in range(-(-rows // tile)):
        for bx in range(-(-cols // tile)):
            smem = np.full((tile, tile), np.nan, dtype=a.dtype)
            x, y = bx * tile + tx, by * tile + ty
            for j in range(0, tile, block_rows):
                ok = (x < cols) & (y + j < rows)
                smem[(ty + j)[ok], tx[ok]] = a[(y + j)[ok], x[ok]]
            x, y = by * tile + tx, bx * tile + ty
            for j in range(0, tile, block_rows):
                ok = (x < rows) & (y + j < cols)
                out[(y + j)[ok], x[ok]] = smem[tx[ok], (ty + j)[ok]]
                np.add.at(writes, ((y + j)[ok], x[ok]), 1)
    return out, writes
