"""Step 1: build the CPU-loop program with nvcc, run it, and check it against NumPy."""
from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from dlc_kernels.cuda import nvcc_skip_reason
from program import build, vector_add


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=positive_int, default=1_000_000, help="vector length")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if reason := nvcc_skip_reason():
        ap.error(reason)

    build_dir = tempfile.TemporaryDirectory(prefix="cuda-first-kernel-")  # removed at exit
    built = build(build_dir.name)
    print(f"built {built.output.name} for {built.arch} (host code only: no kernels in the ptxas report: "
          f"{len(built.kernels)})")
    rng = np.random.default_rng(args.seed)
    a, b = rng.standard_normal((2, args.n), dtype=np.float32)
    t0 = time.perf_counter()
    c = vector_add(built.output, a, b)
    seconds = time.perf_counter() - t0
    ref = a.astype(np.float64) + b.astype(np.float64)
    # float32 a + b is the float64 sum rounded once: at most half an ulp away.
    print(f"n = {args.n:,}: program took {seconds * 1e3:.1f} ms (files and process start included)")
    print(f"max |c - (a+b in float64)| = {np.max(np.abs(c - ref)):.3g}, "
          f"max |ref| = {np.max(np.abs(ref)):.3g}, float32 eps = {np.finfo(np.float32).eps:.3g}")
    print("one CPU thread did all n additions in order; the next step hands each i to its own GPU thread")


if __name__ == "__main__":
    main()
