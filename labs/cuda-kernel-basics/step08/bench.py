"""Benchmark the step's kernels on a GPU: median CUDA-event time, then % of the measured ceilings.

    python bench.py                # prints one table
    python bench.py --json         # also writes results/kernels-<gpu>.json

Ceilings are measured in the same run (dlc_kernels.cuda.measure_ceilings): device copy
bandwidth (read + write) and cuBLAS FP32 GEMM with TF32 off. The FP32 datasheet peak of
known GPUs (H100, H200) is shown beside them.
"""
from __future__ import annotations

import argparse
import re

import torch

try:
    from tabulate import tabulate
except ModuleNotFoundError:  # a bare CUDA machine may lack tabulate: print plain columns there
    def tabulate(rows, headers, floatfmt, missingval):
        cell = lambda v: missingval if v is None else format(v, floatfmt) if isinstance(v, float) else str(v)
        return "\n".join("  ".join(cell(v) for v in row) for row in [headers, *rows])

from dlc_kernels.cuda import datasheet_fp32_peak, measure_ceilings, median, time_cuda
from dlc_shared.bench import write_result
from ext import ops
from reduction import VERSIONS as REDUCE_VERSIONS
from tiling import MATMUL_VERSIONS, matmul_flops
from traffic import copy_bytes, percent_of, transpose_bytes


def cases(mib: int, gemm_n: int = 4096):
    """(kernel, size, callable, bytes moved, flops) for every kernel of the step, inputs random, outputs NaN."""
    n = mib * 2**20 // 4
    src = torch.rand(n, device="cuda")
    dst = torch.full_like(src, float("nan"))
    yield "copy_kernel", f"{mib} MiB", lambda: ops().copy(src, dst), copy_bytes(n), 0
    for stride in (2, 8, 32):  # the same useful bytes, read from a src `stride` times larger
        m = n // stride
        fn = lambda m=m, s=stride: ops().copy_strided(src, dst[:m], s)  # noqa: E731
        yield f"copy_strided_kernel s={stride}", f"{mib} MiB src", fn, copy_bytes(m), 0
    side = int(n**0.5)
    a = src[: side * side].view(side, side)
    out = dst[: side * side].view(side, side)
    fn = lambda: ops().transpose_naive(a, out)  # noqa: E731
    yield "transpose_naive_kernel", f"{side}x{side}", fn, transpose_bytes(side, side), 0
    for pad in (False, True):
        fn = lambda pad=pad: ops().transpose_smem(a, out, pad)  # noqa: E731
        yield f"transpose_smem_kernel pad={int(pad)}", f"{side}x{side}", fn, transpose_bytes(side, side), 0
    total = torch.full((1,), float("nan"), device="cuda")
    for version in REDUCE_VERSIONS:  # the reduction ladder: reads n floats once
        fn = lambda v=version: ops().reduce_sum(src, total, v)  # noqa: E731
        yield f"reduce_v{version}", f"{mib} MiB", fn, n * 4, 0
    A, B = torch.rand(gemm_n, gemm_n, device="cuda"), torch.rand(gemm_n, gemm_n, device="cuda")
    C = torch.full_like(A, float("nan"))
    for version, name in enumerate(MATMUL_VERSIONS):  # the SGEMM ladder
        fn = lambda v=version: ops().matmul(A, B, C, v)  # noqa: E731
        yield name, f"{gemm_n}^3", fn, 0, matmul_flops(gemm_n, gemm_n, gemm_n)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, choices=[64, 256, 1024], default=256, help="MiB per input array")
    ap.add_argument("--gemm-n", type=int, choices=[1024, 2048, 4096], default=4096, help="SGEMM size")
    ap.add_argument("--repeat", type=int, choices=range(5, 1001), default=50, metavar="5..1000")
    ap.add_argument("--json", action="store_true", help="write results/kernels-<gpu>.json")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        ap.exit(1, "bench.py: needs a CUDA GPU; this machine has none (the table is measured, never modelled)\n")

    peak = datasheet_fp32_peak(torch.cuda.get_device_name(0))
    ceil = measure_ceilings(gemm_n=args.gemm_n, repeat=args.repeat)
    records = []
    for kernel, size, fn, nbytes, flops in cases(args.mib, args.gemm_n):
        samples = time_cuda(fn, repeat=args.repeat)
        t = median(samples)
        records.append({"kernel": kernel, "size": size, "median_s": t, "samples_s": samples,
                        "GB/s": nbytes / t / 1e9 if nbytes else None,
                        "% of copy bandwidth": percent_of(nbytes / t, ceil.copy_bytes_per_s) if nbytes else None,
                        "TFLOP/s": flops / t / 1e12 if flops else None,
                        "% of cuBLAS FP32": percent_of(flops / t, ceil.sgemm_flops_per_s) if flops else None,
                        "% of FP32 peak (datasheet)": percent_of(flops / t, peak) if flops and peak else None})
    print(f"{ceil.device}: copy {ceil.copy_bytes_per_s / 1e9:.0f} GB/s, cuBLAS FP32 (TF32 off) "
          f"{ceil.sgemm_flops_per_s / 1e12:.1f} TFLOP/s (FP32 datasheet peak: "
          f"{f'{peak / 1e12:.1f} TFLOP/s' if peak else 'unknown'}); median of {args.repeat} after warm-up")
    keys = ["kernel", "size", "median_s", "GB/s", "% of copy bandwidth", "TFLOP/s", "% of cuBLAS FP32",
            "% of FP32 peak (datasheet)"]
    print(tabulate([[r[k] for k in keys] for r in records], headers=keys, floatfmt=".4g", missingval="-"))
    if args.json:
        slug = re.sub(r"[^a-z0-9]+", "-", ceil.device.lower()).strip("-")
        path = write_result(f"kernels-{slug}", {"device": ceil.device, "repeat": args.repeat,
                                                "ceilings": {"copy_bytes_per_s": ceil.copy_bytes_per_s,
                                                             "sgemm_flops_per_s": ceil.sgemm_flops_per_s,
                                                             "fp32_peak_datasheet": peak},
                                                "results": records})
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
