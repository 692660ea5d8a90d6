"""Time the naive triple loop against NumPy's BLAS on the same matmuls; count their FLOPs and bytes."""
from __future__ import annotations

import argparse

import numpy as np
from tabulate import tabulate

from dlc_shared.bench import median, time_fn
from matmul import matmul_bytes_ideal, matmul_bytes_naive, matmul_flops, naive_matmul


def parse_shapes(text: str) -> list[tuple[int, int, int]]:
    """'64x64x64,64x1x64' -> [(64, 64, 64), (64, 1, 64)] as (M, N, K)."""
    shapes = []
    for item in text.split(","):
        parts = item.strip().lower().split("x")
        if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise argparse.ArgumentTypeError(f"'{item}' is not a shape MxNxK of positive integers")
        shapes.append(tuple(int(p) for p in parts))
    return shapes


def show_flops(shapes, repeat: int) -> None:
    rng = np.random.default_rng(0)
    rows = []
    for m, n, k in shapes:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        a_list, b_list = a.tolist(), b.tolist()
        t_naive = median(time_fn(lambda: naive_matmul(a_list, b_list), warmup=1, repeat=repeat))
        t_blas = median(time_fn(lambda: a @ b, warmup=2, repeat=repeat))
        err = np.abs(np.array(naive_matmul(a_list, b_list)) - a.astype(np.float64) @ b).max()
        flops = matmul_flops(m, n, k)
        rows.append([f"{m}x{n}x{k}", flops, t_naive * 1e3, flops / t_naive / 1e6,
                     t_blas * 1e3, flops / t_blas / 1e9, t_naive / t_blas, err])
    print("\n[1] matmul FLOPs = 2*M*N*K  (naive Python loop vs NumPy float32)")
    print(tabulate(rows, headers=["M x N x K", "FLOPs", "naive ms", "naive MFLOP/s",
                                  "numpy ms", "numpy GFLOP/s", "speedup", "max |err|"],
                   floatfmt=".3g", intfmt=","))


def show_bytes(shapes, itemsize: int = 4) -> None:
    rows = []
    for m, n, k in shapes:
        ideal, naive = matmul_bytes_ideal(m, n, k, itemsize), matmul_bytes_naive(m, n, k, itemsize)
        rows.append([f"{m}x{n}x{k}", matmul_flops(m, n, k), ideal, naive, naive / ideal])
    print(f"\n[2] bytes moved, float32: ideal = {itemsize}*(MK+KN+MN), naive = {itemsize}*(2MNK+MN)")
    print(tabulate(rows, headers=["M x N x K", "FLOPs", "ideal bytes", "naive bytes", "naive / ideal"],
                   floatfmt=".3g", intfmt=","))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shapes", type=parse_shapes, default=parse_shapes("16x16x16,32x32x32,64x64x64,64x1x64"),
                    help="comma-separated MxNxK; keep them small, the naive loop is pure Python")
    ap.add_argument("--repeat", type=int, choices=range(1, 101), default=3, metavar="1..100",
                    help="timed calls of each matmul in table [1] (the median is reported)")
    args = ap.parse_args(argv)
    show_flops(args.shapes, args.repeat)
    show_bytes(args.shapes)


if __name__ == "__main__":
    main()
