"""Count a matmul's FLOPs, bytes and intensity, then measure this machine's bandwidth and FLOP/s ceilings."""
from __future__ import annotations

import argparse

import numpy as np
import torch
from tabulate import tabulate

from ceilings import DATASHEET, MEASURED_ELSEWHERE, device_name, measure_ceilings, peak_dtype
from dlc_shared.bench import median, time_fn
from intensity import standard_ops
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


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


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


def show_intensity(ops) -> None:
    rows = [[op.name, "x".join(map(str, op.shape)), op.flops, op.bytes / 1e6, op.intensity] for op in ops]
    print("\n[3] arithmetic intensity = FLOPs / ideal bytes  (float32)")
    print(tabulate(rows, headers=["op", "shape", "FLOPs", "MB moved", "FLOP/byte"], floatfmt=".3g", intfmt=","))


def show_ceilings(device: torch.device, stream_mib: int | None, gemm_n: int | None) -> tuple[float, float]:
    probes, peak, bandwidth = measure_ceilings(device, stream_mib, gemm_n)
    rows = [[p.name, p.best / 1e9, p.median / 1e9, "GFLOP/s" if p.name.startswith("GEMM") else "GB/s"]
            for p in probes]
    print(f"\n[4] this machine's ceilings: {device_name(device)}")
    print(tabulate(rows, headers=["probe", "best", "median", "unit"], floatfmt=".4g"))
    dtype = str(peak_dtype(device)).removeprefix("torch.")
    machines = [[f"this machine ({device.type}, {dtype})", peak / 1e12, bandwidth / 1e12]]
    machines += [[name, p / 1e12, b / 1e12] for name, (p, b) in {**DATASHEET, **MEASURED_ELSEWHERE}.items()]
    print(tabulate(machines, headers=["machine", "peak TFLOP/s", "bandwidth TB/s"], floatfmt=".4g"))
    return peak, bandwidth


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shapes", type=parse_shapes, default=parse_shapes("16x16x16,32x32x32,64x64x64,64x1x64"),
                    help="comma-separated MxNxK; keep them small, the naive loop is pure Python")
    ap.add_argument("--repeat", type=int, choices=range(1, 101), default=3, metavar="1..100",
                    help="timed calls of each matmul in table [1] (the median is reported)")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--stream-mib", type=positive_int, help="MiB per STREAM array (default: 256 cpu, 1024 cuda)")
    ap.add_argument("--gemm-n", type=positive_int, help="size of the peak GEMM (default: 2048 cpu, 8192 cuda)")
    args = ap.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: this machine has no CUDA GPU")
    show_flops(args.shapes, args.repeat)
    show_bytes(args.shapes)
    show_intensity(standard_ops())
    show_ceilings(torch.device(args.device), args.stream_mib, args.gemm_n)


if __name__ == "__main__":
    main()
