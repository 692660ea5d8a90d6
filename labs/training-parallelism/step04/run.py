"""Bucketed data parallelism, ours and DistributedDataParallel: k gloo processes each take 1/k of the
global batch; hooks start each bucket's all-reduce during backward. Their losses next to one process
with the whole batch, and our buckets in the order they went out."""
from __future__ import annotations

import argparse

import torch
from tabulate import tabulate

from ddp import train_ddp
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
    ap.add_argument("--bucket-kib", type=positive_int, default=16, help="bucket size in KiB")
    args = ap.parse_args()
    if args.batch_size % args.world_size:
        ap.error(f"--batch-size {args.batch_size} does not split evenly over --world-size {args.world_size}")
    torch.set_num_threads(1)

    cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size)
    single = train_single(cfg)
    ranks = launch(train_dp, args.world_size, cfg, None, args.bucket_kib * 1024)
    dp = ranks[0]["losses"]
    ddp = launch(train_ddp, args.world_size, cfg, args.bucket_kib * 1024)[0]["losses"]
    print(f"global batch {cfg.batch_size} sequences; {args.world_size} ranks x {cfg.batch_size // args.world_size} each")
    print(tabulate([[s, a, b, abs(a - b), c, abs(a - c)] for s, (a, b, c) in enumerate(zip(single, dp, ddp))],
                   headers=["step", "one process", f"DP, {args.world_size} ranks", "|diff|", "DDP", "|diff|"],
                   floatfmt=("d", ".6f", ".6f", ".1e", ".6f", ".1e")))
    same = all(torch.equal(p, ranks[0]["params"][n]) for r in ranks[1:] for n, p in r["params"].items())
    print(f"replicas identical after {cfg.steps} steps: {same}")
    r = ranks[0]
    names = list(r["params"])
    rows = []
    for b, left in zip(r["launch_order"], r["grads_left"]):
        idx = r["buckets"][b]
        rows.append([b, ", ".join(str(i) for i in idx), sum(4 * r["params"][names[i]].numel() for i in idx), left])
    print(f"\nbuckets of >= {args.bucket_kib} KiB in the order they started (last step); parameter 0 is the embedding")
    print(tabulate(rows, headers=["bucket", "parameters", "bytes", "gradients still to come"]))


if __name__ == "__main__":
    main()
