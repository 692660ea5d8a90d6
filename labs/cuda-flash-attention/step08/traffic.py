"""HBM traffic of attention, counted by walking the loops and checked against closed forms.

Naive attention writes S and P to HBM: 4 n d + 4 n^2 elements per head whatever the on-chip memory.
A tiled, fused kernel (FlashAttention's loop) keeps S and P on chip: each block of BR query rows
reads its Q tile once and every K and V tile once, and writes its O tile and its BR logsumexps.
With BR = M / (4 d) the K and V reads are 2 n d (n / BR) = 8 n^2 d^2 / M: Dao et al.'s
Theta(n^2 d^2 / M), which shrinks as the on-chip memory M grows. Against naive's 4 n^2 the ratio is
about M / (2 d^2): a tiled kernel saves HBM traffic only when M is large next to d^2.
"""
from __future__ import annotations

from tiling import block_sizes


def flash_io(n: int, d: int, br: int, bc: int) -> dict[str, int]:
    """Elements one head reads and writes, counted tile by tile in the kernel's loop order."""
    reads = writes = 0
    for r0 in range(0, n, br):
        rows = min(br, n - r0)
        reads += rows * d                    # the Q tile, once per block of rows
        for c0 in range(0, n, bc):
            reads += 2 * min(bc, n - c0) * d  # a K tile and a V tile
        writes += rows * d + rows            # the O tile and its logsumexps
    return {"reads": reads, "writes": writes}


def flash_io_formula(n: int, d: int, br: int) -> dict[str, int]:
    """The closed form of flash_io: Q once, K and V once per block of rows, O and lse once."""
    return {"reads": n * d + 2 * n * d * -(-n // br), "writes": n * d + n}


def dao_term(n: int, d: int, m: int) -> float:
    """n^2 d^2 / M, the term of Dao et al.'s Theorem 2 (M in elements)."""
    return n * n * d * d / m


def naive_io(n: int, d: int) -> dict[str, int]:
    """Each of the three kernels reads its inputs once and writes its output once (naive.naive_hbm_elements)."""
    return {"reads": 2 * n * d + n * n + n * n + n * d, "writes": n * n + n * n + n * d}


def io_table(n: int, d: int, sram_bytes: int, itemsize: int = 4) -> dict[str, float]:
    """Naive and flash HBM traffic in bytes for one head, and their ratio, with blocks from the SRAM size."""
    br, bc = block_sizes(sram_bytes, d, itemsize)
    naive = sum(naive_io(n, d).values()) * itemsize
    flash = sum(flash_io_formula(n, d, br).values()) * itemsize
    return {"BR": br, "BC": bc, "naive B": naive, "flash B": flash, "naive / flash": naive / flash}
