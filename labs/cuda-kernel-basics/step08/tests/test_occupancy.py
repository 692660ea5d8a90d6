"""The occupancy calculator on textbook cases, then fed by nvcc's real ptxas report for this step's kernels."""
import pytest

from occupancy import H100, LAUNCH_THREADS, occupancy


@pytest.mark.parametrize("threads,regs,smem,blocks,limit", [
    (256, 32, 0, 8, "warps & registers"),     # 64 warps x 32 x 32 = 65536: the most registers for 100%
    (256, 64, 0, 4, "registers"),             # 64 x 256 = 16384 registers a block, 65536 an SM
    (256, 128, 0, 2, "registers"),
    (128, 16, 0, 16, "warps"),
    (32, 16, 0, 32, "blocks"),                # 32 one-warp blocks: the block limit, half the warps
    (256, 32, 48 * 1024, 4, "shared memory"),  # (48 + 1 reserved) KiB a block, 228 KiB an SM
    (1024, 64, 0, 1, "registers"),            # 2048 registers a warp: 32 warps an SM, one block
])
def test_textbook_cases(threads, regs, smem, blocks, limit):
    occ = occupancy(threads, regs, smem)
    assert occ.blocks_per_sm == blocks
    assert occ.limited_by == limit


def test_register_allocation_is_per_warp_in_units_of_256():
    # 33 registers: 33 * 32 = 1056 -> 1280 a warp; 16384 / 1280 = 12 warps a sub-partition, 48 an SM
    assert occupancy(256, 33).blocks_per_sm == 48 // 8
    assert occupancy(256, 40).blocks_per_sm == 48 // 8  # 1280 exactly: the same allocation as 33


def test_blocks_that_cannot_launch():
    assert occupancy(1025, 16).blocks_per_sm == 0
    assert occupancy(1024, 65).blocks_per_sm == 0   # 65 * 1024 > 65536 registers a block
    assert occupancy(256, 32, 49 * 1024).blocks_per_sm == 0  # over the 48 KiB limit
    assert occupancy(256, 32, 4096, dynamic_shared=45 * 1024).blocks_per_sm == 0  # static + dynamic count together


def test_dynamic_shared_memory_can_become_the_limit():
    occ = occupancy(256, 30, 4224, dynamic_shared=40 * 1024)  # the padded transpose plus 40 KiB
    assert occ.blocks_per_sm == 233472 // (4224 + 40960 + 1024) == 5
    assert occ.limited_by == "shared memory"


def test_every_kernel_of_the_report(built):
    for k in built.kernels:
        occ = occupancy(LAUNCH_THREADS[k.name], k.registers, k.shared_bytes)
        assert 1 <= occ.blocks_per_sm <= H100.max_blocks, k.name
        assert 0 < occ.occupancy <= 1


def test_register_tiling_pays_in_occupancy(built):
    k = built.kernel("matmul_regtile_kernel")
    assert k.registers > 64 + 16  # ptxas's count for the 8x8 accumulators
    occ = occupancy(256, k.registers, k.shared_bytes)
    assert occ.limited_by == "registers"
    assert occ.occupancy <= 0.25   # at most 16 of 64 warps: latency must hide behind ILP, not warps
    light = built.kernel("copy_kernel")
    assert occupancy(256, light.registers, light.shared_bytes).occupancy == 1.0
