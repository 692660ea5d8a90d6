"""Blocking (tiling): keep tiles in fast memory and reuse them, so every byte fetched feeds more FLOPs.

C is computed one T x T output tile at a time. The tile accumulates in fast memory (cache,
registers, shared memory) while the loop over K streams in a T x T tile of A and one of B from
slow memory (DRAM, or HBM); it is written out once at the end. Each A tile is then loaded once per
tile-column of C and each B tile once per tile-row:

    bytes(T) = s * (M*K*ceil(N/T) + K*N*ceil(M/T) + M*N)

T = 1 gives the naive loop's s*(2MNK + MN); T >= max(M, N) gives the ideal s*(MK + KN + MN).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from matmul import matmul_flops


def tiled_matmul_bytes(m: int, n: int, k: int, tile: int, itemsize: int = 4) -> int:
    """Slow-memory traffic of the tiled loop below."""
    return itemsize * (m * k * math.ceil(n / tile) + k * n * math.ceil(m / tile) + m * n)


def tiled_intensity(m: int, n: int, k: int, tile: int, itemsize: int = 4) -> float:
    return matmul_flops(m, n, k) / tiled_matmul_bytes(m, n, k, tile, itemsize)


def fast_memory_bytes(tile: int, itemsize: int = 4) -> int:
    """What must fit in fast memory at once: one tile each of A, B and C."""
    return 3 * tile * tile * itemsize


@dataclass
class Traffic:
    """Bytes that crossed between slow and fast memory."""
    loaded: int = 0
    stored: int = 0


def tiled_matmul(a: np.ndarray, b: np.ndarray, tile: int, traffic: Traffic | None = None) -> np.ndarray:
    """C = A @ B one T x T output tile at a time, recording in `traffic` every tile that moves."""
    m, k = a.shape
    n = b.shape[1]
    c = np.empty((m, n), dtype=np.result_type(a, b))
    traffic = traffic if traffic is not None else Traffic()
    for i in range(0, m, tile):
        for j in range(0, n, tile):
            acc = np.zeros((min(tile, m - i), min(tile, n - j)), dtype=c.dtype)  # stays in fast memory
            for p in range(0, k, tile):
                a_tile, b_tile = a[i:i + tile, p:p + tile], b[p:p + tile, j:j + tile]  # loaded
                traffic.loaded += a_tile.nbytes + b_tile.nbytes
                acc += a_tile @ b_tile  # T*T*T multiply-adds on data already in fast memory
            c[i:i + tile, j:j + tile] = acc  # stored once
            traffic.stored += acc.nbytes
    return c
