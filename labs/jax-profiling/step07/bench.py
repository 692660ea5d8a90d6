"""Pallas flash attention (compiled for the GPU) against XLA's attention on the same inputs, one run side by side.

Needs JAX with a GPU backend: on a CPU the kernel only runs in interpret mode, whose
times are no measure of speed (run.py shows those, labelled as such).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
from dlc_shared.bench import time_fn, write_result
from tabulate import tabulate

from flash_attention import flash_attention, reference_attention


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bh", type=int, default=32, help="batch * heads")
    ap.add_argument("--seq", type=int, nargs="+", default=[512, 1024, 2048, 4096])
    ap.add_argument("--head-dim", type=int, default=64)
    ap.add_argument("--block", type=int, default=64)
    ap.add_argument("--json", action="store_true", help="also write results/bench_gpu.json")
    args = ap.parse_args()
    if jax.default_backend() != "gpu":
        sys.exit(f"bench.py needs a GPU backend; JAX has {jax.default_backend()!r} (run.py shows interpret mode on a CPU)")
    if any(t % args.block for t in args.seq) or min(args.bh, args.head_dim, args.block) < 1:
        ap.error("every --seq must be a multiple of --block; sizes must be positive")
    rows, records = [], []
    for t in args.seq:
        q, k, v = (jax.random.normal(jax.random.key(i), (args.bh, t, args.head_dim), jnp.bfloat16) for i in range(3))
        flops = 2 * 2 * args.bh * t * t * args.head_dim / 2  # two matmuls, causal: half the (t, s) pairs
        rec = {"seq": t}
        for name, fn in (("pallas", jax.jit(lambda a, b, c: flash_attention(a, b, c, args.block, args.block, False))),
                         ("xla", jax.jit(reference_attention))):
            t0 = time.perf_counter()
            compiled = fn.lower(q, k, v).compile()
            compile_s = time.perf_counter() - t0
            samples = time_fn(lambda: jax.block_until_ready(compiled(q, k, v)), warmup=3, repeat=20)
            rec[name] = {"compile_seconds": compile_s, "samples": samples, "median_ms": statistics.median(samples) * 1e3,
                         "tflops": flops / statistics.median(samples) / 1e12}
        rec["pallas_speedup_vs_xla"] = rec["xla"]["median_ms"] / rec["pallas"]["median_ms"]
        records.append(rec)
        rows.append([t, f"{rec['pallas']['median_ms']:.3f}", f"{rec['xla']['median_ms']:.3f}",
                     f"{rec['pallas']['tflops']:.1f}", f"{rec['xla']['tflops']:.1f}", f"{rec['pallas_speedup_vs_xla']:.2f}"])
    print(tabulate(rows, headers=["T", "pallas ms", "xla ms", "pallas TFLOP/s", "xla TFLOP/s", "xla / pallas"]))
    if args.json:
        path = write_result("bench_gpu", {"args": vars(args), "results": records}, packages=("jax", "jaxlib"),
                            out_dir=Path(__file__).parent / "results")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
