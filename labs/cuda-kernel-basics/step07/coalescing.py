"""Count the 32-byte sectors one warp's loads or stores touch, from the addresses its lanes use.

Memory is served to a warp in 32-byte sectors. Efficiency = bytes the lanes asked for /
bytes in the sectors fetched: 100% when 32 lanes read 32 consecutive floats (4 sectors),
12.5% when every lane lands in its own sector (32 sectors for 128 useful bytes).
"""
from __future__ import annotations

import numpy as np

WARP = 32
SECTOR_BYTES = 32
FLOAT_BYTES = 4


def sectors(byte_addresses: np.ndarray) -> int:
    return int(np.unique(np.asarray(byte_addresses) // SECTOR_BYTES).size)


def efficiency(byte_addresses: np.ndarray, bytes_per_lane: int = FLOAT_BYTES) -> float:
    return len(byte_addresses) * bytes_per_lane / (sectors(byte_addresses) * SECTOR_BYTES)


def strided_read(stride: int) -> np.ndarray:
    """Byte addresses of warp 0 in copy_strided_kernel: lane i reads src[i * stride]."""
    return np.arange(WARP) * stride * FLOAT_BYTES


def transpose_naive_warp(rows: int, cols: int, warp_row: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(read, write) byte addresses of one warp of transpose_naive_kernel: block (32, 8), so a warp
    is the 32 threads of one threadIdx.y, i.e. 32 neighbouring columns of one row."""
    col = np.arange(WARP)
    row = warp_row
    return (row * cols + col) * FLOAT_BYTES, (col * rows + row) * FLOAT_BYTES


def transpose_naive_mirror(a: np.ndarray, block=(32, 8)) -> tuple[np.ndarray, np.ndarray]:
    """(out, writes): the kernel's index math run block by block in NumPy; writes counts stores per element."""
    rows, cols = a.shape
    out = np.full((cols, rows), np.nan, dtype=a.dtype)
    writes = np.zeros(out.size, dtype=np.int64)
    tx, ty = np.meshgrid(np.arange(block[0]), np.arange(block[1]))
    for by in range(-(-rows // block[1])):
        for bx in range(-(-cols // block[0])):
            col, row = bx * block[0] + tx, by * block[1] + ty
            ok = (row < rows) & (col < cols)
            col, row = col[ok], row[ok]
            out.reshape(-1)[col * rows + row] = a.reshape(-1)[row * cols + col]
            np.add.at(writes, col * rows + row, 1)
    return out, writes
