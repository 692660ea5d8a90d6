"""Where vectorAdd's time goes once memory is explicit: bytes over the bus vs bytes in device memory.

Datasheet figures (NVIDIA H100 SXM5): HBM3 3.35 TB/s; PCIe Gen5 x16 about 64 GB/s each way.
These are peak numbers, not measurements: the point is their ratio, about 50x.
"""
from __future__ import annotations

FLOAT_BYTES = 4
H100_HBM_BYTES_PER_S = 3.35e12
PCIE5_X16_BYTES_PER_S = 64e9


def transfer_bytes(n: int) -> dict[str, int]:
    """Bytes each phase of the program moves for n float32 elements."""
    return {
        "host->device (a, b)": 2 * n * FLOAT_BYTES,
        "kernel (read a, b; write c)": 3 * n * FLOAT_BYTES,
        "device->host (c)": n * FLOAT_BYTES,
    }


def time_at_peak(n: int) -> dict[str, float]:
    """Seconds per phase if each ran at its datasheet bandwidth."""
    out = {}
    for phase, nbytes in transfer_bytes(n).items():
        rate = H100_HBM_BYTES_PER_S if phase.startswith("kernel") else PCIE5_X16_BYTES_PER_S
        out[phase] = nbytes / rate
    return out
