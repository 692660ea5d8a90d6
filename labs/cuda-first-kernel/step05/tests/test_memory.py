"""The bytes of each phase against what the program does: its cudaMemcpy calls and its kernel's own accesses."""
import re
from pathlib import Path

import numpy as np
import pytest

from memory import transfer_bytes
from simulate import vector_add_grid as kernel_mirror

SOURCE = Path(__file__).resolve().parent.parent / "vector_add.cu"
FLOAT = np.dtype(np.float32).itemsize


def copies_in_the_program() -> dict[str, int]:
    """cudaMemcpy calls in vector_add.cu by direction; each must copy `bytes`, which must be n floats."""
    code = "\n".join(line.split("//")[0] for line in SOURCE.read_text().splitlines())  # comments out
    assert re.search(r"const size_t bytes = n \* sizeof\(float\);", code)
    calls = re.findall(r"cudaMemcpy\([^;]*?,\s*(\w+),\s*cudaMemcpy(HostToDevice|DeviceToHost)\)", code)
    assert calls and all(size == "bytes" for size, _ in calls), calls
    return {d: sum(1 for _, direction in calls if direction == d) for d in ("HostToDevice", "DeviceToHost")}


class CountedReads(np.ndarray):
    """An input array that counts the elements read from it."""

    def __getitem__(self, index):
        out = np.asarray(super().__getitem__(index))
        self.reads += out.size
        return out


def kernel_bytes(n: int) -> int:
    """Bytes the kernel's index math touches: every element it reads from a and b, every c[i] it writes."""
    a, b = (np.ones(n, dtype=np.float32).view(CountedReads) for _ in range(2))
    a.reads = b.reads = 0
    _, writes, *_ = kernel_mirror(a, b)
    return FLOAT * (a.reads + b.reads + int(writes.sum()))


@pytest.mark.parametrize("n", [1, 255, 1000, 4099])
def test_transfer_bytes_are_what_the_program_copies(n):
    copies = copies_in_the_program()
    assert transfer_bytes(n)["host->device (a, b)"] == copies["HostToDevice"] * n * FLOAT
    assert transfer_bytes(n)["device->host (c)"] == copies["DeviceToHost"] * n * FLOAT


@pytest.mark.parametrize("n", [1, 255, 1000, 4099])
def test_kernel_bytes_are_what_its_threads_touch(n):
    assert transfer_bytes(n)["kernel (read a, b; write c)"] == kernel_bytes(n)
