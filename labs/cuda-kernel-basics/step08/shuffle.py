"""Warp shuffles in NumPy: __shfl_down_sync and __shfl_xor_sync over the 32 lanes of a warp.

`shfl_down(v, d)` gives lane i the value of lane i + d (its own value when i + d >= 32);
`shfl_xor(v, m)` gives lane i the value of lane i ^ m. Rows of a 2D array are independent warps.
"""
from __future__ import annotations

import numpy as np

WARP = 32
OFFSETS = (16, 8, 4, 2, 1)


def shfl_down(v: np.ndarray, delta: int) -> np.ndarray:
    src = np.arange(WARP) + delta
    src = np.where(src < WARP, src, np.arange(WARP))  # out of range: the lane keeps its own value
    return v[..., src]


def shfl_xor(v: np.ndarray, mask: int) -> np.ndarray:
    return v[..., np.arange(WARP) ^ mask]


def warp_reduce_trace(v: np.ndarray) -> list[np.ndarray]:
    """Each lane's value after every step of `v += shfl_down(v, offset)`, float32."""
    v = np.asarray(v, dtype=np.float32)
    trace = [v]
    for offset in OFFSETS:
        v = v + shfl_down(v, offset)
        trace.append(v)
    return trace


def warp_reduce_lane0(v: np.ndarray) -> np.ndarray:
    """What lane 0 holds after warp_reduce_shfl: the warp's sum, in the kernel's addition order."""
    return warp_reduce_trace(v)[-1][..., 0]


def warp_allreduce_xor(v: np.ndarray) -> np.ndarray:
    """The butterfly: `v += shfl_xor(v, m)` for m = 16..1 leaves the sum in every lane."""
    v = np.asarray(v, dtype=np.float32)
    for mask in OFFSETS:
        v = v + shfl_xor(v, mask)
    return v
