"""ops.cu compiles for Hopper and ptxas reports what the lesson claims about each kernel."""

KERNELS = {
    "copy_kernel",
}


def test_every_kernel_is_in_the_report(built):
    assert built.output.is_file() and built.arch.startswith("sm_")
    assert {k.name for k in built.kernels} == KERNELS


def test_no_kernel_spills(built):
    assert [k.name for k in built.kernels if k.spills] == []


def test_copy_is_small(built):
    k = built.kernel("copy_kernel")
    assert 0 < k.registers <= 16 and k.shared_bytes == 0
