"""Run a small MLP forward, count its matmul FLOPs by formula and with PyTorch's FlopCounterMode."""
from __future__ import annotations

import argparse
import time

import torch
from tabulate import tabulate
from torch.utils.flop_counter import FlopCounterMode

from mlp import forward_flops, init_mlp, layer_flops, mlp_forward


def parse_sizes(text: str) -> list[int]:
    """'512,1024,10' -> [512, 1024, 10]: the widths of input, hidden layers and output."""
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of integers")
    if len(sizes) < 2 or any(s <= 0 for s in sizes):
        raise argparse.ArgumentTypeError(f"'{text}' needs at least two positive widths")
    return sizes


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def show_forward(batch: int, sizes: list[int]) -> None:
    params = init_mlp(sizes)
    x = torch.randn(batch, sizes[0], generator=torch.Generator().manual_seed(1))
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        mlp_forward(x, params)
    counted = counter.get_total_flops()
    rows = [[i + 1, f"({batch} x {n_in}) @ ({n_in} x {n_out})", f"({batch}, {n_out})", f]
            for i, (n_in, n_out, f) in enumerate(zip(sizes[:-1], sizes[1:], layer_flops(batch, sizes)))]
    rows.append(["sum", "", "", forward_flops(batch, sizes)])
    print(f"\n[1] MLP forward = a chain of matmuls, FLOPs = sum 2*B*in*out  (B={batch}, sizes={sizes})")
    print(tabulate(rows, headers=["layer", "matmul", "output", "FLOPs (formula)"], intfmt=","))
    start = time.perf_counter()
    with torch.no_grad():
        mlp_forward(x, params)
    seconds = time.perf_counter() - start
    print(f"FlopCounterMode counted {counted:,} FLOPs (formula {forward_flops(batch, sizes):,}); "
          f"one forward took {seconds * 1e3:.2f} ms = {counted / seconds / 1e9:.3g} GFLOP/s on this CPU")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch", type=positive_int, default=256, help="rows in the input batch")
    ap.add_argument("--sizes", type=parse_sizes, default=parse_sizes("784,1024,1024,10"),
                    help="layer widths: input,hidden...,output")
    args = ap.parse_args()
    torch.manual_seed(0)
    show_forward(args.batch, args.sizes)


if __name__ == "__main__":
    main()
