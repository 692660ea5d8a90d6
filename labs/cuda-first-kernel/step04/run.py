"""Step 4: a grid of blocks with a bounds check; run on a GPU, or mirror the grid in NumPy."""
from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from dlc_kernels.cuda import nvcc_skip_reason
from dlc_shared.testing import cuda_available
from memory import time_at_peak, transfer_bytes
from program import build, vector_add
from simulate import grid_size, vector_add_grid


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=positive_int, default=1_000_000, help="vector length")
    ap.add_argument("--block", type=int, choices=range(1, 1025), default=256, metavar="1..1024",
                    help="threads per block")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if reason := nvcc_skip_reason():
        ap.error(reason)

    build_dir = tempfile.TemporaryDirectory(prefix="cuda-first-kernel-")  # removed at exit
    built = build(build_dir.name)
    for k in built.kernels:
        print(f"built kernel {k.name} for {built.arch}: {k.registers} registers, {k.shared_bytes} B shared, "
              f"spills: {'yes' if k.spills else 'no'}")
    rng = np.random.default_rng(args.seed)
    a, b = rng.standard_normal((2, args.n), dtype=np.float32)
    ref = a.astype(np.float64) + b.astype(np.float64)
    if cuda_available():
        t0 = time.perf_counter()
        c = vector_add(built.output, a, b, block=args.block)
        print(f"ran on the GPU: {(time.perf_counter() - t0) * 1e3:.1f} ms (files, process, CUDA start included)")
    else:
        print(f"no CUDA GPU here: the program is compiled, not run. Mirroring its grid in NumPy instead:")
        c, writes, _ = vector_add_grid(a, b, block=args.block)
        grid = grid_size(args.n, args.block)
        _, _, stray = vector_add_grid(a[:args.block + 1], b[:args.block + 1], args.block, bounds_check=False)
        print(f"  <<<{grid}, {args.block}>>> = {grid * args.block:,} threads for {args.n:,} elements; "
              f"every c[i] written exactly once: {bool(np.all(writes == 1))}")
        print(f"  without `if (i < n)`, n = {args.block + 1} would launch 2 blocks and {stray} threads "
              f"would write past the end of c")
    print(f"max |c - (a+b in float64)| = {np.max(np.abs(c - ref)):.3g}")
    print(f"\nbytes moved for n = {args.n:,}, and the time each phase would take at H100 datasheet peaks:")
    for (phase, nbytes), seconds in zip(transfer_bytes(args.n).items(), time_at_peak(args.n).values()):
        print(f"  {phase:28s} {nbytes / 1e6:8.1f} MB  {seconds * 1e6:8.1f} us")


if __name__ == "__main__":
    main()
