"""How many bytes a kernel must move: the numerator of effective bandwidth.

Effective bandwidth = (bytes the algorithm has to read + write) / measured time. It counts
each element once, as if caches were perfect, so it is comparable across kernels and with
the device's copy bandwidth; a kernel that re-reads data pays in time, not in bytes.
"""
from __future__ import annotations

FLOAT_BYTES = 4


def copy_bytes(n: int) -> int:
    """Read n floats, write n floats."""
    return 2 * n * FLOAT_BYTES


def percent_of(value: float, ceiling: float) -> float:
    return 100.0 * value / ceiling


def transpose_bytes(rows: int, cols: int) -> int:
    """A transpose reads and writes every element once: the same bytes as a copy."""
    return copy_bytes(rows * cols)
