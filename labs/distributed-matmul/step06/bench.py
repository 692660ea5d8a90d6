"""Collective matmul against AllGather-then-matmul, timed side by side in one run on 8 CPU devices.

A[I_X, J] · B[J, K_X] -> C[I, K_X] on a 1-D mesh of 8 devices, square float32 matrices.
Compile time is measured apart from run time. On a CPU the devices share the same cores
and a ppermute is a memory copy, so whether the overlap pays here is a measurement, not a given.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from mesh import make_mesh  # first: sets XLA_FLAGS before jax starts

import jax  # noqa: E402
import numpy as np  # noqa: E402
from dlc_shared.bench import time_fn, write_result  # noqa: E402
from tabulate import tabulate  # noqa: E402

from collective_matmul import collective_matmul, matmul_all_gather  # noqa: E402
from notation import shard  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048], help="I = J = K, divisible by 8")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="also write results/collective_matmul.json")
    args = ap.parse_args()
    if any(n < 8 or n % 8 for n in args.sizes) or args.repeat < 1:
        sys.exit("error: every --sizes must be a positive multiple of 8, --repeat >= 1")
    mesh = make_mesh((8,), ("X",))
    rows, records = [], []
    for n in args.sizes:
        x = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
        a, b = shard(x, "A[I_X, J]", mesh), shard(x, "B[J, K_X]", mesh)
        rec = {"n": n, "flops": 2 * n**3}
        for name, fn in (("all_gather_then_matmul", matmul_all_gather(mesh)), ("collective_matmul", collective_matmul(mesh))):
            t0 = time.perf_counter()
            compiled = fn.lower(a, b).compile()
            compile_s = time.perf_counter() - t0
            samples = time_fn(lambda: jax.block_until_ready(compiled(a, b)), warmup=1, repeat=args.repeat)
            rec[name] = {"compile_seconds": compile_s, "samples": samples, "median_ms": statistics.median(samples) * 1e3}
        rec["overlapped_over_unoverlapped"] = rec["collective_matmul"]["median_ms"] / rec["all_gather_then_matmul"]["median_ms"]
        records.append(rec)
        rows.append([n, f"{rec['all_gather_then_matmul']['median_ms']:.1f}", f"{rec['collective_matmul']['median_ms']:.1f}",
                     f"{rec['overlapped_over_unoverlapped']:.2f}",
                     f"{rec['all_gather_then_matmul']['compile_seconds'] * 1e3:.0f} / {rec['collective_matmul']['compile_seconds'] * 1e3:.0f}"])
    print("float32 A[I_X, J] · B[J, K_X] -> C[I, K_X] on 8 CPU devices; medians")
    print(tabulate(rows, headers=["n", "all-gather, then matmul ms", "collective matmul ms", "collective / all-gather",
                                  "compile ms (ag / cm)"]))
    if args.json:
        path = write_result("collective_matmul", {"args": vars(args), "results": records},
                            packages=("jax", "jaxlib", "numpy"), out_dir=Path(__file__).parent / "results")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
