"""An occupancy calculator: how many blocks of a kernel fit on one SM, and which resource runs out first.

It follows the CUDA toolkit's own calculator (cuda_occupancy.h) for compute capability 9.0:
- warps: 2048 threads = 64 warps per SM, and at most 32 blocks;
- registers: 65536 per SM in 4 sub-partitions; a warp's registers are allocated in units of 256,
  and a warp lives in one sub-partition, so warps per SM = 4 * floor(16384 / regs per warp);
- shared memory: 228 KiB per SM; a block also holds 1 KiB reserved by the driver, rounded up to 128 B.
The inputs (registers and static shared memory per kernel) come from nvcc's ptxas report.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SMLimits:
    name: str = "H100/H200 (sm_90)"
    warp_size: int = 32
    max_threads: int = 2048
    max_blocks: int = 32
    max_threads_per_block: int = 1024
    registers: int = 65536
    max_registers_per_block: int = 65536
    max_registers_per_thread: int = 255
    register_unit: int = 256          # registers per warp are a multiple of this
    sub_partitions: int = 4
    shared_bytes: int = 228 * 1024    # the largest shared-memory carve-out of an SM
    shared_per_block: int = 48 * 1024  # static limit; more needs cudaFuncSetAttribute (opt-in, up to 227 KiB)
    reserved_shared_per_block: int = 1024
    shared_unit: int = 128


H100 = SMLimits()


def round_up(x: int, unit: int) -> int:
    return -(-x // unit) * unit


@dataclass
class Occupancy:
    blocks_per_sm: int
    limits: dict[str, int]  # blocks allowed by each resource
    warps_per_block: int
    max_warps: int

    @property
    def warps_per_sm(self) -> int:
        return self.blocks_per_sm * self.warps_per_block

    @property
    def occupancy(self) -> float:
        return self.warps_per_sm / self.max_warps

    @property
    def limited_by(self) -> str:
        """The resource(s) that allow the fewest blocks."""
        return " & ".join(k for k, v in self.limits.items() if v == self.blocks_per_sm)


def occupancy(threads_per_block: int, registers_per_thread: int, static_shared: int = 0, dynamic_shared: int = 0,
              sm: SMLimits = H100) -> Occupancy:
    """Resident blocks per SM for one kernel configuration (0 when the block cannot launch at all)."""
    warps = -(-threads_per_block // sm.warp_size)
    max_warps = sm.max_threads // sm.warp_size
    fits = threads_per_block <= sm.max_threads_per_block
    limits = {"blocks": sm.max_blocks, "warps": max_warps // warps if fits else 0}

    regs_per_warp = round_up(registers_per_thread * sm.warp_size, sm.register_unit)
    if regs_per_warp == 0:
        limits["registers"] = sm.max_blocks
    elif (registers_per_thread > sm.max_registers_per_thread
          or regs_per_warp * round_up(warps, sm.sub_partitions) > sm.max_registers_per_block):
        limits["registers"] = 0
    else:
        warps_per_partition = (sm.registers // sm.sub_partitions) // regs_per_warp
        limits["registers"] = warps_per_partition * sm.sub_partitions // warps

    smem = round_up(static_shared + dynamic_shared + sm.reserved_shared_per_block, sm.shared_unit)
    too_big = smem > sm.shared_per_block + sm.reserved_shared_per_block  # without the opt-in attribute
    limits["shared memory"] = 0 if too_big else sm.shared_bytes // smem
    return Occupancy(min(limits.values()), limits, warps, max_warps)


# The block size each kernel of ops.cu is launched with (see the launch_* functions).
LAUNCH_THREADS = {
    "copy_kernel": 256, "copy_strided_kernel": 256, "transpose_naive_kernel": 256, "transpose_smem_kernel": 256,
    "matmul_naive_kernel": 1024, "matmul_tiled_kernel": 1024, "matmul_regtile_kernel": 256,
    **{f"reduce_v{v}": 256 for v in range(1, 8)},
}
