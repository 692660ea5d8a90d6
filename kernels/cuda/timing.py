"""CUDA-event timing and the two measured ceilings kernels are compared against.

A kernel launch returns before the kernel runs, so host clocks measure the launch; events
recorded on the stream measure the GPU's own time between them. We warm up first (the first
call pays for module loading and caches), then take the median of many calls.
"""
from __future__ import annotations

from dataclasses import dataclass

from dlc_shared.bench import median  # re-exported: one median for every benchmark


def time_cuda(fn, *, warmup: int = 5, repeat: int = 50) -> list[float]:
    """Seconds per call of `fn` for `repeat` calls, each bracketed by CUDA events, after `warmup` calls."""
    import torch
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    pairs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(repeat)]
    for start, end in pairs:
        start.record()
        fn()
        end.record()
    torch.cuda.synchronize()
    return [start.elapsed_time(end) / 1e3 for start, end in pairs]  # elapsed_time is in ms


def bandwidth(bytes_moved: float, seconds: float) -> float:
    """Effective bandwidth in bytes/s: the bytes a kernel must move (read + write) over its time."""
    return bytes_moved / seconds


def flop_rate(flops: float, seconds: float) -> float:
    return flops / seconds


# NVIDIA datasheet FP32 (non-tensor) peaks, TFLOP/s: SMs x 128 FP32 lanes x 2 x boost clock.
# A datasheet number, not a measurement: reported beside the measured cuBLAS ceiling, never instead of it.
DATASHEET_FP32_TFLOPS = {"H200": 66.9, "H100 PCIe": 51.2, "H100 NVL": 60.0, "H100": 66.9}


def datasheet_fp32_peak(device_name: str) -> float | None:
    """FP32 FLOP/s peak of a known GPU by name (first matching key), None for others."""
    for key, tflops in DATASHEET_FP32_TFLOPS.items():
        if key in device_name:
            return tflops * 1e12
    return None


@dataclass
class Ceilings:
    copy_bytes_per_s: float     # device-to-device copy, counting read + write
    sgemm_flops_per_s: float    # cuBLAS FP32 GEMM with TF32 off
    device: str


def measure_ceilings(*, copy_mib: int = 1024, gemm_n: int = 4096, repeat: int = 20) -> Ceilings:
    """Measure this GPU's copy bandwidth and cuBLAS FP32 (TF32 off) FLOP/s, median of `repeat` calls."""
    import torch
    src = torch.rand(copy_mib * 2**20 // 4, device="cuda")
    dst = torch.empty_like(src)
    copy_s = median(time_cuda(lambda: dst.copy_(src), repeat=repeat))
    del src, dst
    a = torch.rand(gemm_n, gemm_n, device="cuda")
    b = torch.rand(gemm_n, gemm_n, device="cuda")
    old = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False  # plain FP32 FMAs: the same arithmetic our kernels do
    try:
        gemm_s = median(time_cuda(lambda: a @ b, repeat=repeat))
    finally:
        torch.backends.cuda.matmul.allow_tf32 = old
    return Ceilings(copy_bytes_per_s=bandwidth(2 * copy_mib * 2**20, copy_s),
                    sgemm_flops_per_s=flop_rate(2 * gemm_n**3, gemm_s),
                    device=torch.cuda.get_device_name(0))
