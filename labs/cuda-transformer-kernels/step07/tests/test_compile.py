"""ops.cu compiles for Hopper and ptxas reports what the lesson claims about each kernel."""
import re

from dlc_kernels.cuda import target_arch

KERNELS = {"add_kernel", "transpose_naive_kernel", "transpose_tiled_kernel", "matmul_naive_kernel",
           "matmul_tiled_kernel", "gemv_thread_kernel", "gemv_warp_kernel",
           "softmax_kernel", "rmsnorm_forward_kernel", "rmsnorm_backward_dx_kernel", "rmsnorm_backward_dw_kernel",
           "softmax_backward_kernel"}


def test_every_kernel_is_in_the_report(built):
    assert built.output.is_file()
    # ptxas names the GPU it generated code for, once per kernel: it must be the one asked for
    reported = re.findall(r"Compiling entry function '[^']+' for '(\w+)'", built.log)
    assert len(reported) == len(built.kernels) and set(reported) == {target_arch()} == {built.arch}
    assert {k.name for k in built.kernels} == KERNELS


def test_no_kernel_spills(built):
    assert [k.name for k in built.kernels if k.spills] == []


def test_add_is_small(built):
    k = built.kernel("add_kernel")
    assert 0 < k.registers <= 16 and k.shared_bytes == 0 and k.barriers == 0
