"""The reduction ladder: the float32 mirror against float64 sums, and the tree costs that explain the ladder."""
import functools
import math

import numpy as np
import pytest

from dlc_shared.testing import tolerance
from reduction import BLOCK, VERSIONS, reduce_blocks, reduce_mirror, rounding_depth, tree_profile

SIZES = [1, 255, 256, 257, 513, 100_003, 300_000, 3_000_017]  # the GPU test's sizes are among them


@functools.cache
def values(n: int) -> tuple[np.ndarray, float]:
    """Inputs in [0.5, 1.5) (a block of b values carries at least b/2 of the sum, so losing one shows)
    and their exact sum."""
    x = np.random.default_rng(n).uniform(0.5, 1.5, n).astype(np.float32)
    return x, math.fsum(x.astype(np.float64))


def sum_tolerance(x: np.ndarray, version: int) -> float:
    # each value goes through at most rounding_depth float32 roundings: |err| <= depth * eps * sum|x|
    # (worst case, already linear in the depth: terms=1), times the rule's safety factor
    return tolerance(np.float32, scale=float(np.abs(x.astype(np.float64)).sum()), terms=1,
                     depth=rounding_depth(x.size, version))


def first_launch_block(n: int, version: int, block: int) -> np.ndarray:
    """Indices of the values that block `block` of the first launch reads."""
    i = np.arange(n)
    if version >= 6:  # grid-stride: block b owns x[b*BLOCK + t + k*gridDim*BLOCK]
        return i[(i % (reduce_blocks(n, version) * BLOCK)) // BLOCK == block]
    return i[i // (2 * BLOCK if version in (4, 5) else BLOCK) == block]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("n", SIZES)
def test_mirror_sums_like_float64(version, n):
    x, ref = values(n)
    tol = sum_tolerance(x, version)
    assert abs(float(reduce_mirror(x, version)) - ref) <= tol


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("n", SIZES)
def test_the_bound_catches_a_lost_block(version, n):
    # the same check, with the values of the first launch's last (smallest) block zeroed, must fail
    x, ref = values(n)
    lost = x.copy()
    lost[first_launch_block(n, version, reduce_blocks(n, version) - 1)] = 0
    assert abs(float(reduce_mirror(lost, version)) - ref) > sum_tolerance(x, version)


def test_pairing_order_differs_between_interleaved_and_sequential():
    x = np.random.default_rng(0).standard_normal(BLOCK).astype(np.float32)
    # same values, different association: the float32 results differ in the last bits (almost surely)
    assert reduce_mirror(x, 1) == reduce_mirror(x, 2)
    assert reduce_mirror(x, 3) == reduce_mirror(x, 4) == reduce_mirror(x, 5)
    assert reduce_mirror(x, 1) != reduce_mirror(x, 3)


def test_block_counts():
    n = 1 << 20
    assert reduce_blocks(n, 1) == reduce_blocks(n, 3) == n // 256
    assert reduce_blocks(n, 4) == n // 512  # first add during load: half the blocks
    assert reduce_blocks(n, 6) == reduce_blocks(n, 7) == 1024


def test_v1_diverges_in_every_warp_v2_conflicts_v3_neither():
    v1, v2, v3 = tree_profile(1), tree_profile(2), tree_profile(3)
    assert v1[0]["warps issuing"] == 8 and v1[0]["divergent warps"] == 8   # s=1: every other thread
    assert v2[0]["warps issuing"] == 4 and v2[0]["divergent warps"] == 0   # 128 contiguous threads
    assert v2[0]["smem passes"] == 2 and v2[3]["smem passes"] == 8        # stride 2s words: conflicts
    assert all(r["smem passes"] == 1 for r in v3)
    assert v3[0]["active threads"] == 128 and v3[0]["divergent warps"] == 0


def test_unrolled_last_warp_drops_six_barriers():
    assert sum(r["block barrier"] for r in tree_profile(4)) == 8
    assert sum(r["block barrier"] for r in tree_profile(5)) == 2


def test_shared_memory_tree_kernels_in_the_report(built):
    for v in range(1, 7):
        k = built.kernel(f"reduce_v{v}")
        assert k.shared_bytes == BLOCK * 4 and not k.spills and k.registers <= 32
