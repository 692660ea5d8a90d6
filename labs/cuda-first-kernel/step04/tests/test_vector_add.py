"""The program compiles with nvcc; on a GPU its c = a + b matches float64 NumPy; without one, CUDA_CHECK stops it."""
import re

import numpy as np
import pytest

from dlc_kernels.cuda import target_arch
from dlc_shared.testing import assert_close, cuda_available, gpu
from program import run_program, vector_add


def test_compiles_for_the_requested_gpu(built):
    assert built.output.is_file()
    # ptxas names the GPU it generated code for, once per kernel: it must be the one asked for
    reported = re.findall(r"Compiling entry function '[^']+' for '(\w+)'", built.log)
    assert reported and set(reported) == {target_arch()} == {built.arch}


def test_resource_report_has_the_kernel(built):
    k = built.kernel("vector_add")
    assert 0 < k.registers <= 32  # a few pointers, n and i: no reason for more
    assert k.shared_bytes == 0 and not k.spills


@gpu
@pytest.mark.parametrize("n,block", [(1, 256), (7, 256), (1000, 256), (4099, 256), (4099, 32), (4099, 1024),
                                     (100_003, 100)])
def test_matches_numpy(built, n, block):
    rng = np.random.default_rng(n)
    a, b = rng.standard_normal((2, n), dtype=np.float32)
    assert np.all(a != 0) and np.unique(a).size > n // 2  # fresh random values, not zeros
    c = vector_add(built.output, a, b, block=block)
    ref = a.astype(np.float64) + b.astype(np.float64)
    assert_close(c, ref, np.float32)  # one float32 rounding of the exact sum: terms 1, depth 1


@pytest.mark.skipif(cuda_available(), reason="this machine has a GPU; the error is for machines without")
def test_without_a_gpu_cuda_check_names_the_failing_call(built, tmp_path):
    a = np.ones(3, dtype=np.float32)
    a.tofile(tmp_path / "a.bin")
    proc = run_program(built.output, "3", str(tmp_path / "a.bin"), str(tmp_path / "a.bin"), str(tmp_path / "c.bin"))
    assert proc.returncode == 1
    assert proc.stderr.startswith("CUDA error") and "vector_add.cu:" in proc.stderr
    assert "in: cudaMalloc(&d_a" in proc.stderr  # the first CUDA call is the first to fail
    assert not (tmp_path / "c.bin").exists()  # it stopped before writing a wrong answer


@gpu
def test_too_many_threads_per_block_is_reported(built, tmp_path):
    a = np.random.default_rng(0).standard_normal(3000, dtype=np.float32)
    with pytest.raises(RuntimeError, match="cudaErrorInvalidConfiguration"):
        vector_add(built.output, a, a, block=1025)  # the hardware limit is 1024 threads per block
