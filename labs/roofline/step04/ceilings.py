"""This machine's two ceilings: memory bandwidth (STREAM-style copy and triad) and peak FLOP/s (a big GEMM).

The probes run with PyTorch on the CPU or on a CUDA GPU. On the CPU a call is timed with
time.perf_counter; on a GPU with CUDA events recorded on the stream, because a launch
returns long before the kernel has finished.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass

import torch

from dlc_shared.bench import cpu_name, time_fn

# NVIDIA datasheets: dense BF16 tensor-core FLOP/s (no sparsity) and HBM bandwidth.
DATASHEET = {
    "H100 SXM (datasheet, bf16)": (989e12, 3.35e12),
    "H200 (datasheet, bf16)": (989e12, 4.8e12),
}
# Measured by the project on an H100 80GB HBM3 (torch 2.11, CUDA events, median of 20 after warm-up):
# 8192^3 bf16 GEMM and a 1 GiB fp32 device copy. The record, with its method: results/h100-anchor.json.
MEASURED_ELSEWHERE = {"H100 SXM (measured, bf16)": (792.8e12, 2.96e12)}

# Per device: MiB per STREAM array (well past the caches) and the GEMM size.
DEFAULT_STREAM_MIB = {"cpu": 256, "cuda": 1024}
DEFAULT_GEMM_N = {"cpu": 2048, "cuda": 8192}


@dataclass
class Probe:
    name: str
    work: float           # bytes moved (bandwidth probes) or FLOPs (GEMM) per call
    samples: list[float]  # seconds per call

    @property
    def best(self) -> float:
        """Work per second of the fastest call: a ceiling is what the machine can reach."""
        return self.work / min(self.samples)

    @property
    def median(self) -> float:
        return self.work / statistics.median(self.samples)


def time_calls(fn, device: torch.device, warmup: int = 2, repeat: int = 5) -> list[float]:
    """Seconds per call of fn on device."""
    if device.type != "cuda":
        return time_fn(fn, warmup=warmup, repeat=repeat)
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize(device)
    samples = []
    for _ in range(repeat):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end) / 1e3)  # elapsed_time is in ms
    return samples


def triad(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor, scalar: float) -> torch.Tensor:
    """STREAM triad in place: a = b + scalar * c (2 FLOPs, 3 memory touches per element)."""
    return torch.add(b, c, alpha=scalar, out=a)


def stream_copy(n: int, device: torch.device, repeat: int = 5) -> Probe:
    """dst = src over n float32s: STREAM counts 2 * 4n bytes (read src, write dst)."""
    src = torch.full((n,), 1.0, device=device)  # the values do not matter; torch.rand is slow at this size
    dst = torch.empty_like(src)
    return Probe("copy  a = b", 2 * src.nbytes, time_calls(lambda: dst.copy_(src), device, repeat=repeat))


def stream_triad(n: int, device: torch.device, repeat: int = 5) -> Probe:
    """a = b + 3 * c over n float32s: 3 * 4n bytes."""
    b, c = torch.full((n,), 1.0, device=device), torch.full((n,), 2.0, device=device)
    a = torch.empty_like(b)
    return Probe("triad a = b + s*c", 3 * a.nbytes, time_calls(lambda: triad(a, b, c, 3.0), device, repeat=repeat))


def gemm_peak(n: int, device: torch.device, dtype: torch.dtype = torch.float32, repeat: int = 5) -> Probe:
    """An n x n x n matmul: large enough that its intensity (n/6 in fp32) is far past any ridge."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    out = torch.empty(n, n, device=device, dtype=dtype)
    name = f"GEMM {n}^3 {str(dtype).removeprefix('torch.')}"
    return Probe(name, 2 * n**3, time_calls(lambda: torch.mm(a, b, out=out), device, repeat=repeat))


def device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()


def peak_dtype(device: torch.device) -> torch.dtype:
    """GPUs reach their peak in bf16 on tensor cores; a CPU without AMX is fastest in fp32."""
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def measure_ceilings(device: torch.device, stream_mib: int | None = None, gemm_n: int | None = None,
                     repeat: int = 5) -> tuple[list[Probe], float, float]:
    """Run the probes; return them with this machine's (peak FLOP/s, bandwidth B/s), best of each."""
    n = (stream_mib or DEFAULT_STREAM_MIB[device.type]) * 2**20 // 4
    bandwidth = [stream_copy(n, device, repeat), stream_triad(n, device, repeat)]
    gemm = gemm_peak(gemm_n or DEFAULT_GEMM_N[device.type], device, peak_dtype(device), repeat)
    return bandwidth + [gemm], gemm.best, max(p.best for p in bandwidth)
