"""The transpose kernels' index math run in NumPy (the twins), and the bank conflicts of their tile.

A twin walks the grid block by block with the kernel's own thread indices and guards, so a
wrong index or a missing guard shows up on the CPU as a wrong or doubly written element.
Shared memory has 32 banks of 4-byte words (word w is in bank w % 32); a warp's access takes
as many passes as the most distinct words it asks of one bank.
"""
from __future__ import annotations

import numpy as np

TILE, BLOCK_ROWS, WARP, BANKS = 32, 8, 32, 32
VERSIONS = ["naive", "tiled", "tiled+pad"]


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


def transpose_naive_twin(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(out, writes): transpose_naive_kernel on a (rows, cols) grid of blocks (32, 8), flat indices as in CUDA."""
    rows, cols = a.shape
    flat_in, out = a.ravel(), np.full(rows * cols, np.nan, dtype=a.dtype)
    writes = np.zeros(rows * cols, dtype=np.int64)
    tx, ty = np.meshgrid(np.arange(TILE), np.arange(BLOCK_ROWS))
    for by in range(cdiv(rows, BLOCK_ROWS)):
        for bx in range(cdiv(cols, TILE)):
            col, row = bx * TILE + tx, by * BLOCK_ROWS + ty
            ok = (row < rows) & (col < cols)
            dst = col[ok] * rows + row[ok]
            out[dst] = flat_in[row[ok] * cols + col[ok]]
            np.add.at(writes, dst, 1)
    return out.reshape(cols, rows), writes.reshape(cols, rows)


def transpose_tiled_twin(a: np.ndarray, pad: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(out, writes): transpose_tiled_kernel<pad>, each block staging its tile in a (32, 32 + pad) array."""
    rows, cols = a.shape
    out = np.full((cols, rows), np.nan, dtype=a.dtype)
    writes = np.zeros(out.shape, dtype=np.int64)
    tx, ty = np.meshgrid(np.arange(TILE), np.arange(BLOCK_ROWS))
    for by in range(cdiv(rows, TILE)):
        for bx in range(cdiv(cols, TILE)):
            tile = np.full((TILE, TILE + pad), np.nan, dtype=a.dtype)
            x, y = bx * TILE + tx, by * TILE + ty
            for j in range(0, TILE, BLOCK_ROWS):
                ok = (x < cols) & (y + j < rows)
                tile[(ty + j)[ok], tx[ok]] = a[(y + j)[ok], x[ok]]
            x, y = by * TILE + tx, bx * TILE + ty  # the mirrored block position in `out`
            for j in range(0, TILE, BLOCK_ROWS):
                ok = (x < rows) & (y + j < cols)
                out[(y + j)[ok], x[ok]] = tile[tx[ok], (ty + j)[ok]]
                np.add.at(writes, ((y + j)[ok], x[ok]), 1)
    return out, writes


def bank_passes(words: np.ndarray) -> int:
    """Passes one warp access needs: the most distinct words asked of one bank (same word = broadcast)."""
    words = np.unique(np.asarray(words))
    return int(np.bincount(words % BANKS, minlength=BANKS).max())


def tile_accesses(pad: int, j: int = 0, ty: int = 0) -> dict[str, np.ndarray]:
    """Word indices of one warp (threadIdx.y = ty, lanes = threadIdx.x) in the kernel's two tile accesses."""
    lane = np.arange(WARP)
    return {"store tile[ty + j][tx]": (ty + j) * (TILE + pad) + lane,
            "load tile[tx][ty + j]": lane * (TILE + pad) + (ty + j)}


def sectors(byte_addresses: np.ndarray) -> int:
    """32-byte sectors one warp access touches in global memory."""
    return len(np.unique(np.asarray(byte_addresses) // 32))


def warp_sectors(rows: int, cols: int, version: int) -> dict[str, int]:
    """Sectors of the first warp's global read and write (block (0, 0), threadIdx.y = 0, j = 0)."""
    lane = np.arange(WARP)
    read = lane * 4  # in[0][lane]: both kernels read a row of `in`
    write = lane * rows * 4 if version == 0 else lane * 4  # naive: out[lane][0]; tiled: out[0][lane]
    return {"read": sectors(read), "write": sectors(write)}


def transpose_bytes(rows: int, cols: int) -> int:
    """Bytes a transpose must move: read every float once, write it once."""
    return 2 * 4 * rows * cols
