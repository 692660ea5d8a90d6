"""Benchmark our attention kernels on a GPU beside torch SDPA: median CUDA-event time and TFLOP/s.

    python bench.py                # prints one table
    python bench.py --json         # also writes results/attention-<gpu>.json

FLOP count: 4 n^2 d per head (Q K^T and P V, a multiply and an add each), also for causal rows
(which do about half of it): their TFLOP/s compare times, not work done. Our kernels compute in
float32 on the CUDA cores; SDPA runs in float32 and, with its FlashAttention backend, in bf16 and
fp16 on the tensor cores. The backend of each SDPA row is pinned with torch.nn.attention.sdpa_kernel.
The Triton kernel runs in bf16 on the tensor cores too, at two block shapes; its rows also give
SDPA flash's bf16 time (same causal) over its own, in percent.
"""
from __future__ import annotations

import argparse
import functools
import re

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

try:
    from tabulate import tabulate
except ModuleNotFoundError:  # a bare CUDA machine may lack tabulate: print plain columns there
    def tabulate(rows, headers, floatfmt, missingval):
        cell = lambda v: missingval if v is None else format(v, floatfmt) if isinstance(v, float) else str(v)  # noqa: E731
        return "\n".join("  ".join(cell(v) for v in row) for row in [headers, *rows])

from dlc_kernels.cuda import median, time_cuda
from dlc_shared.bench import write_result
from ext import ops
from flash_triton import attention_triton

sdpa = torch.nn.functional.scaled_dot_product_attention


def pinned(backend, fn):
    """fn run with SDPA restricted to one backend (an error if that backend cannot take the inputs)."""
    def call():
        with sdpa_kernel(backend):
            return fn()
    return call


# (BLOCK_M, BLOCK_N, num_warps, num_stages): one warp per 16 query rows; K, V blocks prefetched in stages
TRITON_CONFIGS = [(64, 64, 4, 3), (128, 64, 8, 3)]


def cases(heads: int, n: int, d: int, naive: bool):
    """(kernel, dtype, causal, callable): our kernels in float32, then SDPA's backends on the same inputs."""
    q, k, v = (torch.randn(heads, n, d, device="cuda") for _ in range(3))
    if naive:
        yield "attention_naive", "float32", False, lambda: ops().attention_naive(q, k, v)
    for causal in (False, True):
        yield "attention_flash", "float32", causal, lambda c=causal: ops().attention_flash(q, k, v, c)
        yield "SDPA math", "float32", causal, pinned(SDPBackend.MATH, lambda c=causal: sdpa(q, k, v, is_causal=c))
        yield "SDPA efficient", "float32", causal, pinned(SDPBackend.EFFICIENT_ATTENTION,
                                                          lambda c=causal: sdpa(q, k, v, is_causal=c))
        for dtype in (torch.bfloat16, torch.float16):
            a, b, c_ = q[None].to(dtype), k[None].to(dtype), v[None].to(dtype)
            yield "SDPA flash", str(dtype).removeprefix("torch."), causal, pinned(
                SDPBackend.FLASH_ATTENTION, lambda a=a, b=b, c_=c_, c=causal: sdpa(a, b, c_, is_causal=c))
        a, b, c_ = q.bfloat16(), k.bfloat16(), v.bfloat16()
        for bm, bn, warps, stages in TRITON_CONFIGS:
            yield f"Triton flash {bm}x{bn}", "bfloat16", causal, functools.partial(
                attention_triton, a, b, c_, causal, block_m=bm, block_n=bn, num_warps=warps, num_stages=stages)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, choices=[1024, 2048, 4096], default=4096, help="sequence length")
    ap.add_argument("--d", type=int, choices=[64, 128], default=128, help="head dimension")
    ap.add_argument("--heads", type=int, choices=range(1, 65), default=16, metavar="1..64")
    ap.add_argument("--repeat", type=int, choices=range(5, 1001), default=20, metavar="5..1000")
    ap.add_argument("--no-naive", action="store_true", help="skip attention_naive (its (heads, n, n) buffer)")
    ap.add_argument("--json", action="store_true", help="write results/attention-<gpu>.json")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        ap.exit(1, "bench.py: needs a CUDA GPU; this machine has none (the table is measured, never modelled)\n")

    torch.backends.cuda.matmul.allow_tf32 = False  # plain FP32 arithmetic in the float32 rows
    flops = 4 * args.heads * args.n**2 * args.d
    records = []
    for kernel, dtype, causal, fn in cases(args.heads, args.n, args.d, not args.no_naive):
        samples = time_cuda(fn, repeat=args.repeat)
        t = median(samples)
        records.append({"kernel": kernel, "dtype": dtype, "causal": causal, "median_s": t, "samples_s": samples,
                        "TFLOP/s": flops / t / 1e12})
    for r in records:  # SDPA flash's bf16 time over the Triton kernel's, same causal: "% of SDPA"
        if r["kernel"].startswith("Triton"):
            flash = next(x for x in records if x["kernel"] == "SDPA flash" and x["dtype"] == "bfloat16"
                         and x["causal"] == r["causal"])
            r["% of SDPA flash"] = 100 * flash["median_s"] / r["median_s"]
    device = torch.cuda.get_device_name(0)
    print(f"{device}: heads {args.heads}, n {args.n}, d {args.d}; median of {args.repeat} after warm-up")
    keys = ["kernel", "dtype", "causal", "median_s", "TFLOP/s", "% of SDPA flash"]
    print(tabulate([[r.get(k) for k in keys] for r in records], headers=keys, floatfmt=".4g", missingval="-"))
    if args.json:
        slug = re.sub(r"[^a-z0-9]+", "-", device.lower()).strip("-")
        path = write_result(f"attention-{slug}", {"device": device, "heads": args.heads, "n": args.n, "d": args.d,
                                                  "repeat": args.repeat, "results": records})
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
