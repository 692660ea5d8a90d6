"""ZeRO-1/2/3 by hand and FSDP2 (fully_shard): k gloo processes, each holding 1/k of the optimizer
state (stage 1), of the gradients too (stage 2) and of the weights too (stage 3, FSDP). Bytes each rank
holds, next to the formulas, and the losses next to one process with the whole batch."""
from __future__ import annotations

import argparse

import torch
from tabulate import tabulate

from fsdp import train_fsdp
from launch import launch
from train import TrainConfig, train_single
from zero import train_zero, zero_bytes

FORMULAS = {1: "4Ψ + 12Ψ/k", 2: "2Ψ + 14Ψ/k", 3: "16Ψ/k"}


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'")
    return int(text)


def every_stage(rank: int, world_size: int, cfg: TrainConfig) -> dict:
    return {**{(stage, dtype): train_zero(rank, world_size, cfg, stage, dtype)
               for stage in (1, 2, 3) for dtype in (torch.float32, torch.bfloat16)},
            "fsdp": train_fsdp(rank, world_size, cfg), "fsdp_mixed": train_fsdp(rank, world_size, cfg, mixed=True)}


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
    k = args.world_size
    single = train_single(cfg)
    runs = launch(every_stage, k, cfg)
    psi = runs[0][(1, torch.float32)]["numel"]
    print(f"Ψ = {psi:,} parameters, k = {k} ranks; bf16 weights and gradients, fp32 master, m, v")
    plain = max(launch(train_zero, 1, cfg, 1, torch.bfloat16)[0]["held_bytes"])  # k = 1: nothing sharded
    rows = [["plain DP", "16Ψ", 16 * psi, plain, plain / psi]]
    for stage in (1, 2, 3):
        held = max(max(r[(stage, torch.bfloat16)]["held_bytes"]) for r in runs)
        rows.append([f"ZeRO-{stage}", FORMULAS[stage], zero_bytes(psi, k, stage), held, held / psi])
    fsdp = [r["fsdp_mixed"] for r in runs]
    held = max(sum(r["held"].values()) for r in fsdp)
    rows.append(["FSDP2 bf16", "16Ψ/k + 4·tensors", 16 * psi // k + 4 * len(fsdp[0]["grads"]), held, held / psi])
    print(tabulate(rows, headers=["", "formula", "formula bytes", "held per rank (max)", "bytes/param"],
                   intfmt=",", floatfmt=".2f"))
    print("FSDP2 per rank: " + ", ".join(f"{n} {v:,}" for n, v in fsdp[0]["held"].items()) + " bytes")
    cols = [runs[0][(3, dtype)]["losses"] for dtype in (torch.float32, torch.bfloat16)]
    cols[1:1] = [runs[0]["fsdp"]["losses"]]
    cols.append(fsdp[0]["losses"])
    print()
    print(tabulate([[s, single[s], *(c[s] for c in cols)] for s in range(cfg.steps)],
                   headers=["step", "one process", "ZeRO-3 fp32", "FSDP2 fp32", "ZeRO-3 bf16", "FSDP2 bf16"],
                   floatfmt=".6f"))


if __name__ == "__main__":
    main()
