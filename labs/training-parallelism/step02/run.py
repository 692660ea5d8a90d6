"""Naive data parallelism: k gloo processes each take 1/k of the global batch and all-reduce
every gradient after backward. Their losses, step by step, next to one process with the whole batch."""
from __future__ import annotations

import argparse

import torch
from tabulate import tabulate

from dp import train_dp
from launch import launch
from train import TrainConfig, train_single


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'")
    return int(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=positive_int, default=5, help="optimizer steps")
    ap.add_argument("--batch-size", type=positive_int, default=8, help="the global batch, in sequences")
    ap.add_argument("--world-size", type=positive_int, default=2, help="data-parallel processes")
    args = ap.parse_args()
    if args.batch_size % args.world_size:
        ap.error(f"--batch-size {args.batch_size} does not split evenly over --world-size {args.world_size}")
    torch.set_num_threads(1)

    cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size)
    single = train_single(cfg)
    ranks = launch(train_dp, args.world_size, cfg)
    dp = ranks[0]["losses"]
    print(f"global batch {cfg.batch_size} sequences; {args.world_size} ranks x {cfg.batch_size // args.world_size} each")
    print(tabulate([[s, a, b, abs(a - b)] for s, (a, b) in enumerate(zip(single, dp))],
                   headers=["step", "one process", f"DP, {args.world_size} ranks", "|diff|"],
                   floatfmt=("d", ".6f", ".6f", ".1e")))
    same = all(torch.equal(p, ranks[0]["params"][n]) for r in ranks[1:] for n, p in r["params"].items())
    print(f"replicas identical after {cfg.steps} steps: {same}")


if __name__ == "__main__":
    main()
