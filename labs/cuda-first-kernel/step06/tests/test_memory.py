"""The byte count of each phase, counted independently from the program's cudaMemcpy calls."""
import pytest

from memory import PCIE5_X16_BYTES_PER_S, time_at_peak, transfer_bytes


def test_bytes_match_the_copies_in_the_program():
    n = 1000
    b = transfer_bytes(n)
    # two cudaMemcpy HostToDevice of n floats, one DeviceToHost, the kernel touches 3 arrays
    assert b["host->device (a, b)"] == 2 * 4000
    assert b["device->host (c)"] == 4000
    assert b["kernel (read a, b; write c)"] == 12000


def test_the_bus_dominates():
    t = time_at_peak(10**6)
    bus = t["host->device (a, b)"] + t["device->host (c)"]
    assert bus == pytest.approx(12e6 / PCIE5_X16_BYTES_PER_S)
    assert bus > 40 * t["kernel (read a, b; write c)"]
