"""ops.cu compiles for Hopper and ptxas reports what the lesson claims about each kernel."""
import re

from dlc_kernels.cuda import target_arch


KERNELS = {
    "copy_kernel",
    "copy_strided_kernel", "transpose_naive_kernel",
    "transpose_smem_kernel",
    "matmul_naive_kernel", "matmul_tiled_kernel",
    "matmul_regtile_kernel",
    "reduce_v1", "reduce_v2", "reduce_v3", "reduce_v4", "reduce_v5", "reduce_v6",
}


def test_every_kernel_is_in_the_report(built):
    assert built.output.is_file()
    # ptxas names the GPU it generated code for, once per kernel: it must be the one asked for
    reported = re.findall(r"Compiling entry function '[^']+' for '(\w+)'", built.log)
    assert len(reported) == len(built.kernels) and set(reported) == {target_arch()} == {built.arch}
    assert {k.name for k in built.kernels} == KERNELS


def test_no_kernel_spills(built):
    assert [k.name for k in built.kernels if k.spills] == []


def test_copy_is_small(built):
    k = built.kernel("copy_kernel")
    assert 0 < k.registers <= 16 and k.shared_bytes == 0
