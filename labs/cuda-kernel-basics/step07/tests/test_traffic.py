"""The bytes behind effective bandwidth, against what the compiled kernel loads and stores per thread
(its PTX, compiled here) and how many threads the launch puts on each element (its index math in NumPy)."""
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from dlc_kernels.cuda import INCLUDE_DIR, find_nvcc, nvcc_skip_reason, target_arch
from coalescing import transpose_naive_mirror
from traffic import copy_bytes, percent_of, transpose_bytes

STEP = Path(__file__).resolve().parent.parent
# ld.global.nc.f32, st.global.v4.f32, ...: the access width in bits, times the vector length
ACCESS = re.compile(r"\b(ld|st)\.global(?:\.\w+)*?\.(?:v(\d)\.)?[bfsu](8|16|32|64)\b")


@pytest.fixture(scope="module")
def ptx(tmp_path_factory):
    """The PTX of the step's kernel headers, compiled by nvcc for the target GPU."""
    if reason := nvcc_skip_reason():
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("ptx")
    text = ""
    for header in ("copy.cuh", "transpose.cuh"):
        if (STEP / header).is_file():
            path = out / (header + ".ptx")
            subprocess.run([find_nvcc(), "-x", "cu", f"-arch={target_arch()}", "-ptx", "-O3", "-I", str(INCLUDE_DIR),
                            "-o", str(path), str(STEP / header)], check=True, capture_output=True)
            text += path.read_text()
    return text


def global_bytes_per_thread(ptx: str, kernel: str) -> tuple[int, int]:
    """(bytes loaded, bytes stored) from global memory by one thread of a loop-free kernel, read off its PTX."""
    body = re.search(r"\.entry _Z\d+" + kernel + r"\w*\((.*?)\n}", ptx, re.S).group(1)
    labels = {m.group(1): m.start() for m in re.finditer(r"(\$L__BB\w+):", body)}
    for branch in re.finditer(r"\bbra(?:\.uni)?\s+(\$L__BB\w+);", body):  # only forward jumps: no loop
        assert labels[branch.group(1)] > branch.start(), f"{kernel} loops; count its bytes per iteration instead"
    moved = {"ld": 0, "st": 0}
    for op, vector, bits in ACCESS.findall(body):
        moved[op] += int(vector or 1) * int(bits) // 8
    return moved["ld"], moved["st"]


def launch_block(header: str, launcher: str) -> int:
    """Threads per block that the launcher in the header uses."""
    code = (STEP / header).read_text()
    return int(re.search(launcher + r"\(.*?const unsigned block = (\d+);", code, re.S).group(1))


def threads_per_element(n: int, block: int) -> np.ndarray:
    """copy_kernel's index math over its whole grid: i = blockIdx.x * blockDim.x + threadIdx.x, kept if i < n."""
    grid = -(-n // block)
    i = (np.arange(grid)[:, None] * block + np.arange(block)).ravel()
    return np.bincount(i[i < n], minlength=n)


@pytest.mark.parametrize("n", [1, 255, 257, 1_000_003])
def test_copy_bytes_are_what_the_compiled_kernel_moves(ptx, n):
    loaded, stored = global_bytes_per_thread(ptx, "copy_kernel")
    assert (loaded, stored) == (4, 4)  # one float in, one float out
    assert np.all(threads_per_element(n, launch_block("copy.cuh", "launch_copy")) == 1)  # one thread each
    assert copy_bytes(n) == n * (loaded + stored)


@pytest.mark.parametrize("m,stride", [(1, 2), (1000, 8), (257, 33)])
def test_strided_copy_moves_the_bytes_of_its_outputs(ptx, m, stride):
    loaded, stored = global_bytes_per_thread(ptx, "copy_strided_kernel")
    assert np.all(threads_per_element(m, launch_block("transpose.cuh", "launch_copy_strided")) == 1)
    assert copy_bytes(m) == m * (loaded + stored)  # the useful bytes; the wasted sectors cost time, not bytes


@pytest.mark.parametrize("shape", [(1, 1), (33, 70), (100, 9)])
def test_transpose_bytes_are_what_the_compiled_kernel_moves(ptx, shape):
    loaded, stored = global_bytes_per_thread(ptx, "transpose_naive_kernel")
    _, writes = transpose_naive_mirror(np.zeros(shape, dtype=np.float32))  # the kernel's index math, block (32, 8)
    assert np.all(writes == 1)  # one thread per element
    assert transpose_bytes(*shape) == int(writes.sum()) * (loaded + stored)


def test_percent():
    assert percent_of(2.0, 8.0) == 25.0
