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
from traffic import copy_bytes, percent_of


def cases(mib: int):
    """(kernel, size, callable, bytes moved, flops) for every kernel of the step, inputs random, outputs NaN."""
    n = mib * 2**20 // 4
    src = torch.rand(n, device="cuda")
    dst = torch.full_like(src, float("nan"))
    yield "copy_kernel", f"{mib} MiB", lambda: ops().copy(src, dst), copy_bytes(n), 0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, choices=[64, 256, 1024], default=256, help="MiB per input array")
    ap.add_argument("--repeat", type=int, choices=range(5, 1001), default=50, metavar="5..1000")
    ap.add_argument("--json", action="store_true", help="write results/kernels-<gpu>.json")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        ap.exit(1, "bench.py: needs a CUDA GPU; this machine has none (the table is measured, never modelled)\n")

    peak = datasheet_fp32_peak(torch.cuda.get_device_name(0))
    ceil = measure_ceilings(repeat=args.repeat)
    records = []
    for kernel, size, fn, nbytes, flops in cases(args.mib):
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
