"""Benchmark the step's kernels on a GPU beside PyTorch's own op: median CUDA-event time, GB/s, % of copy bandwidth.

    python bench.py                # prints one table
    python bench.py --json         # also writes results/kernels-<gpu>.json

The copy-bandwidth ceiling is measured in the same run (dlc_kernels.cuda.measure_ceilings).
"""
from __future__ import annotations

import argparse
import re

import torch

try:
    from tabulate import tabulate
except ModuleNotFoundError:  # a bare CUDA machine may lack tabulate: print plain columns there
    def tabulate(rows, headers, floatfmt, missingval):
        cell = lambda v: missingval if v is None else format(v, floatfmt) if isinstance(v, float) else str(v)  # noqa: E731
        return "\n".join("  ".join(cell(v) for v in row) for row in [headers, *rows])

from dlc_kernels.cuda import measure_ceilings, median, time_cuda
from dlc_shared.bench import write_result
from ext import ops
from gemv import VERSIONS as GEMV_VERSIONS, gemv_bytes, gemv_flops
from matmul import VERSIONS as MATMUL_VERSIONS, matmul_flops
from rmsnorm import RMS_EPS, rmsnorm_bytes
from softmax import softmax_backward_bytes, softmax_bytes
from transpose import VERSIONS as TRANSPOSE_VERSIONS, transpose_bytes


def cases(n: int, gemm_n: int):
    """(kernel, size, callable, bytes moved, flops): each kernel, then torch's op on the same input."""
    a = torch.randn(n, n, device="cuda")
    nbytes = transpose_bytes(n, n)
    for version, name in enumerate(TRANSPOSE_VERSIONS):
        yield f"transpose {name}", f"{n}x{n}", lambda v=version: ops().transpose(a, v), nbytes, 0
    yield "torch a.t().contiguous()", f"{n}x{n}", lambda: a.t().contiguous(), nbytes, 0
    A, B = torch.randn(gemm_n, gemm_n, device="cuda"), torch.randn(gemm_n, gemm_n, device="cuda")
    flops = matmul_flops(gemm_n, gemm_n, gemm_n)
    for version, name in enumerate(MATMUL_VERSIONS):
        yield f"matmul {name}", f"{gemm_n}^3", lambda v=version: ops().matmul(A, B, v), 0, flops
    yield "torch A @ B (TF32 off)", f"{gemm_n}^3", lambda: A @ B, 0, flops
    W, x = torch.randn(n, n, device="cuda"), torch.randn(n, device="cuda")  # n = 8192: a 256 MiB weight
    nbytes, flops = gemv_bytes(n, n), gemv_flops(n, n)
    for version, name in enumerate(GEMV_VERSIONS):
        yield f"gemv {name}", f"{n}x{n}", lambda v=version: ops().gemv(W, x, v), nbytes, flops
    yield "torch W @ x", f"{n}x{n}", lambda: W @ x, nbytes, flops
    yield "softmax", f"{n}x{n}", lambda: ops().softmax(a), softmax_bytes(n, n), 0
    yield "torch.softmax", f"{n}x{n}", lambda: torch.softmax(a, -1), softmax_bytes(n, n), 0
    p, dp = torch.softmax(a, -1), torch.randn(n, n, device="cuda")
    nbytes = softmax_backward_bytes(n, n)
    yield "softmax backward", f"{n}x{n}", lambda: ops().softmax_backward(dp, p), nbytes, 0
    yield "torch _softmax_backward_data", f"{n}x{n}", \
        lambda: torch.ops.aten._softmax_backward_data(dp, p, -1, torch.float32), nbytes, 0
    g, dy = torch.randn(n, device="cuda"), torch.randn(n, n, device="cuda")
    rstd = ops().rmsnorm_forward(a, g, RMS_EPS)[1]
    nbytes = rmsnorm_bytes(n, n)
    yield "rmsnorm forward", f"{n}x{n}", lambda: ops().rmsnorm_forward(a, g, RMS_EPS), nbytes["forward"], 0
    yield "torch rms_norm forward", f"{n}x{n}", lambda: torch.nn.functional.rms_norm(a, (n,), g, RMS_EPS), \
        nbytes["forward"], 0
    yield "rmsnorm backward", f"{n}x{n}", lambda: ops().rmsnorm_backward(dy, a, g, rstd), nbytes["backward"], 0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, choices=[1024, 4096, 8192], default=8192, help="matrix side")
    ap.add_argument("--gemm-n", type=int, choices=[1024, 2048, 4096], default=4096, help="GEMM size")
    ap.add_argument("--repeat", type=int, choices=range(5, 1001), default=50, metavar="5..1000")
    ap.add_argument("--json", action="store_true", help="write results/kernels-<gpu>.json")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        ap.exit(1, "bench.py: needs a CUDA GPU; this machine has none (the table is measured, never modelled)\n")

    ceil = measure_ceilings(gemm_n=args.gemm_n, repeat=args.repeat)
    records = []
    torch.backends.cuda.matmul.allow_tf32 = False  # plain FP32 FMAs, the arithmetic our kernels do
    for kernel, size, fn, nbytes, flops in cases(args.n, args.gemm_n):
        samples = time_cuda(fn, repeat=args.repeat)
        t = median(samples)
        records.append({"kernel": kernel, "size": size, "median_s": t, "samples_s": samples,
                        "GB/s": nbytes / t / 1e9 if nbytes else None,
                        "% of copy bandwidth": 100 * nbytes / t / ceil.copy_bytes_per_s if nbytes else None,
                        "TFLOP/s": flops / t / 1e12 if flops else None,
                        "% of cuBLAS FP32": 100 * flops / t / ceil.sgemm_flops_per_s if flops else None})
    print(f"{ceil.device}: copy {ceil.copy_bytes_per_s / 1e9:.0f} GB/s, cuBLAS FP32 (TF32 off) "
          f"{ceil.sgemm_flops_per_s / 1e12:.1f} TFLOP/s; median of {args.repeat} after warm-up")
    keys = ["kernel", "size", "median_s", "GB/s", "% of copy bandwidth", "TFLOP/s", "% of cuBLAS FP32"]
    print(tabulate([[r[k] for k in keys] for r in records], headers=keys, floatfmt=".4g", missingval="-"))
    if args.json:
        slug = re.sub(r"[^a-z0-9]+", "-", ceil.device.lower()).strip("-")
        path = write_result(f"kernels-{slug}", {"device": ceil.device, "repeat": args.repeat,
                                                "ceilings": {"copy_bytes_per_s": ceil.copy_bytes_per_s,
                                                             "sgemm_flops_per_s": ceil.sgemm_flops_per_s},
                                                "results": records})
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
