"""Step 6: warps and block shape: divergence, partial warps and coalescing for several block shapes."""
from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
from tabulate import tabulate

from dlc_kernels.cuda import nvcc_skip_reason
from dlc_shared.testing import cuda_available
from memory import time_at_peak, transfer_bytes
from program import build_all, grid_add, vector_add, warp_lanes
from simulate import add_grid_nd, grid_size, vector_add_grid
from warps import ballots, divergent_warps, lane_utilization, sectors_per_warp


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def shape_arg(text: str) -> tuple[int, ...]:
    parts = text.split("x")
    if len(parts) not in (2, 3) or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"'{text}' is not a shape like 37x70 or 3x5x33")
    return tuple(int(p) for p in parts)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=positive_int, default=1_000_000, help="vector length")
    ap.add_argument("--block", type=int, choices=range(1, 1025), default=256, metavar="1..1024",
                    help="threads per block")
    ap.add_argument("--shapes", type=shape_arg, nargs="+", default=[(100, 70), (9, 30, 50)],
                    help="2D/3D shapes for the grid_add program (HxW or DxHxW)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if reason := nvcc_skip_reason():
        ap.error(reason)

    build_dir = tempfile.TemporaryDirectory(prefix="cuda-first-kernel-")  # removed at exit
    builds = build_all(build_dir.name)
    built = builds["vector_add"]
    for k in built.kernels + builds["grid_add"].kernels + builds["warps"].kernels:
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
    for shape in args.shapes:
        block = (32, 8) if len(shape) == 2 else (32, 4, 2)
        grid = [grid_size(e, b) for e, b in zip(shape[::-1], block)]
        a, b = rng.standard_normal((2, *shape), dtype=np.float32)
        if cuda_available():
            c = grid_add(builds["grid_add"].output, a, b)
            how = "GPU"
        else:
            c, writes = add_grid_nd(a, b, block)
            how = f"NumPy mirror, every element written once: {bool(np.all(writes == 1))}"
        print(f"shape {'x'.join(map(str, shape))}: grid {tuple(grid)} x block {block} = "
              f"{int(np.prod(grid)) * int(np.prod(block)):,} threads for {a.size:,} elements ({how}); "
              f"max error {np.max(np.abs(c - (a.astype(np.float64) + b))):.3g}")

    rows = []
    for bx, by in [(32, 8), (16, 16), (8, 32), (1, 256), (48, 1), (100, 1)]:
        checked = "-"
        if cuda_available():
            checked = all(np.array_equal(warp_lanes(builds["warps"].output, bx, by, br)[:, 3], ballots(bx, by, br))
                          for br in range(3))
        rows.append([f"{bx}x{by}", -(-bx * by // 32), f"{lane_utilization(bx * by):.0%}",
                     divergent_warps(bx, by, 0), divergent_warps(bx, by, 2), sectors_per_warp(bx, by), checked])
    print("\nwarps of one block (model; last column: the GPU's ballots equal the model's)")
    print(tabulate(rows, headers=["block", "warps", "lanes used", "diverge on x%2", "diverge on y%2",
                                  "sectors/warp (a[y*W+x])", "GPU agrees"]))


if __name__ == "__main__":
    main()
