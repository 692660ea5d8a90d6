"""The reduction ladder in NumPy: the kernels' exact float32 addition order, and each tree step's cost.

`reduce_mirror` replays every version's pairing (interleaved for v1/v2, sequential for v3..v6,
the loads of v4..v6), so its float32 result is the kernel's result bit for bit: on a GPU the
tests compare them exactly. `tree_profile` counts, per step of one block's tree, the threads
that work, the warps that must issue, the warps that diverge and the shared-memory passes.
"""
from __future__ import annotations

import math

import numpy as np

from banks import conflict_ways

BLOCK = 256
WARP = 32
VERSIONS = range(1, 7)
V6_BLOCKS = 1024


def reduce_blocks(n: int, version: int) -> int:
    """Partial sums one launch leaves (reduce.cuh's reduce_blocks)."""
    per_block = 2 * BLOCK if version in (4, 5) else BLOCK
    blocks = -(-n // per_block)
    return min(blocks, V6_BLOCKS) if version == 6 else blocks


def rounding_depth(n: int, version: int) -> int:
    """The most float32 roundings one value goes through on its way into the sum: the tree's depth
    ceil(log2 n), one more for the add during the load, and for the grid-stride versions the
    n / (V6_BLOCKS * BLOCK) additions each thread makes one after another. The sum's error is then
    at most depth * eps * sum|x| (the worst case, linear in the depth)."""
    return math.ceil(math.log2(max(n, 1))) + 1 + (n // (V6_BLOCKS * BLOCK) if version == 6 else 0)


def load_block_values(x: np.ndarray, version: int) -> np.ndarray:
    """(blocks, BLOCK) float32: what each thread holds in s_data before the tree."""
    blocks = reduce_blocks(x.size, version)
    if version == 6:  # grid-stride: thread (b, t) sums x[b*BLOCK + t + k*gridDim*BLOCK] in order
        stride = blocks * BLOCK
        padded = np.zeros(-(-x.size // stride) * stride, dtype=np.float32)
        padded[:x.size] = x
        acc = np.zeros(stride, dtype=np.float32)
        for chunk in padded.reshape(-1, stride):
            acc += chunk  # float32, one chunk after the other: the thread's loop order
        return acc.reshape(blocks, BLOCK)
    per_block = 2 * BLOCK if version in (4, 5) else BLOCK
    padded = np.zeros(blocks * per_block, dtype=np.float32)
    padded[:x.size] = x
    v = padded.reshape(blocks, per_block)
    return v[:, :BLOCK] + v[:, BLOCK:] if per_block == 2 * BLOCK else v  # v4/v5 add during load


def block_tree(s_data: np.ndarray, version: int) -> np.ndarray:
    """Run the tree over every block at once (float32); returns s_data[:, 0], the blocks' sums."""
    s_data = s_data.copy()
    if version in (1, 2):  # interleaved: s_data[2st] += s_data[2st + s], s = 1, 2, 4, ...
        s = 1
        while s < BLOCK:
            s_data[:, ::2 * s] += s_data[:, s::2 * s]
            s *= 2
    else:                  # sequential: s_data[t] += s_data[t + s], s = BLOCK/2, ..., 1
        s = BLOCK // 2
        while s > 0:
            s_data[:, :s] += s_data[:, s:2 * s]
            s //= 2
    return s_data[:, 0]


def reduce_mirror(x: np.ndarray, version: int) -> np.float32:
    """sum(x) in exactly the kernels' float32 order, pass after pass."""
    values = np.asarray(x, dtype=np.float32)
    while True:
        values = block_tree(load_block_values(values, version), version)
        if values.size == 1:
            return values[0]


def tree_profile(version: int) -> list[dict]:
    """Per tree step of one block: active threads, warps issuing, divergent warps, shared-memory passes."""
    tid = np.arange(BLOCK)
    if version in (1, 2):
        steps = [1 << k for k in range(8)]
    else:
        steps = [BLOCK >> k for k in range(1, 9)]
    rows = []
    for s in steps:
        if version == 1:
            active, index = tid % (2 * s) == 0, tid
        elif version == 2:
            active, index = 2 * s * tid < BLOCK, 2 * s * tid
        else:
            active, index = tid < s, tid
        in_warp = active.reshape(-1, WARP)
        issuing = in_warp.any(axis=1)
        divergent = issuing & ~in_warp.all(axis=1)
        # Warp-synchronous steps (v5, v6 once s <= 32) let all 32 lanes of warp 0 run: no divergence.
        if version >= 5 and s <= 32:
            issuing, divergent = np.eye(1, BLOCK // WARP, dtype=bool)[0], np.zeros(BLOCK // WARP, dtype=bool)
        passes = max((conflict_ways(index[w * WARP:(w + 1) * WARP][active[w * WARP:(w + 1) * WARP]])
                      for w in range(BLOCK // WARP) if active[w * WARP:(w + 1) * WARP].any()), default=0)
        rows.append({"s": s, "active threads": int(active.sum()), "warps issuing": int(issuing.sum()),
                     "divergent warps": int(divergent.sum()), "smem passes": passes,
                     "block barrier": not (version >= 5 and s <= 32)})
    return rows
