"""ops.cu compiles for Hopper and ptxas reports what the lesson claims about each kernel."""
import re

from dlc_kernels.cuda import target_arch

KERNELS = {"scores_kernel", "softmax_rows_kernel", "pv_kernel", "online_softmax_kernel",
           "scores_tiled_kernel", "flash_forward_kernel"}


def test_every_kernel_is_in_the_report(built):
    assert built.output.is_file()
    # ptxas names the GPU it generated code for, once per kernel: it must be the one asked for
    reported = re.findall(r"Compiling entry function '[^']+' for '(\w+)'", built.log)
    assert len(reported) == len(built.kernels) and set(reported) == {target_arch()} == {built.arch}
    assert {k.name for k in built.kernels} == KERNELS


def test_no_kernel_spills(built):
    assert [k.name for k in built.kernels if k.spills] == []


def test_naive_kernels_use_no_shared_memory(built):
    for name in ("scores_kernel", "softmax_rows_kernel", "pv_kernel", "online_softmax_kernel"):
        k = built.kernel(name)
        # every operand comes from global memory each time: no tile, no barrier
        assert k.shared_bytes == 0 and k.barriers == 0 and 0 < k.registers <= 40


def test_tiles_fill_the_budget_the_python_side_computes(built):
    from tiling import BUDGET_BYTES, block_sizes, tile_bytes
    tiles = sorted(k.shared_bytes for k in built.kernels_named("scores_tiled_kernel"))
    expected = sorted(tile_bytes(*block_sizes(BUDGET_BYTES, d), d) for d in (64, 128))
    assert tiles == expected == [16448, 16512]  # d = 128: 16 x 129 + 16 x 128 floats; d = 64: 32 x 65 + 32 x 64
    for k in built.kernels_named("scores_tiled_kernel"):
        assert k.barriers == 1 and not k.spills  # __syncthreads() is barrier 0, used twice per K tile


def test_flash_keeps_q_k_v_tiles_in_shared_memory_and_its_row_in_registers(built):
    from tiling import BUDGET_BYTES, block_sizes
    expected = []
    for d in (128, 64):
        br, bc = block_sizes(BUDGET_BYTES, d)
        threads = br * d // 64  # 64 output columns per thread
        expected.append(4 * (br * (d + 1) + 2 * bc * d + threads * (bc + 1)))  # qs, ks, vs, ss
    tiles = sorted(k.shared_bytes for k in built.kernels_named("flash_forward_kernel"))
    assert tiles == expected == [26816, 28928]
    for k in built.kernels_named("flash_forward_kernel"):
        # acc[64] lives in registers: at least 64 of them, under the 255 a thread may have, nothing spills
        assert k.barriers == 1 and not k.spills and k.stack_bytes == 0 and 64 < k.registers <= 255
