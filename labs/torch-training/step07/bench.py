"""Mixed precision measured: step time and the loss reached, fp32 vs bf16 vs fp16.

Each precision trains the same model from the same seed on the same batches.
The first step is reported apart (it warms up); "ms/step" is the median of the
other steps, so the warm-up and the final evaluation do not blur it.
"""
from __future__ import annotations

import argparse
import statistics

import torch
from tabulate import tabulate

from dlc_shared.bench import write_result
from train import TrainConfig, train


def measured_run(cfg: TrainConfig) -> dict:
    if cfg.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    _, history = train(cfg, log=lambda _: None)
    return dict(first_step_s=history["step_s"][0], seconds_per_step=statistics.median(history["step_s"][1:]),
                final_train_loss=history["loss"][-1], val_loss=history["val_loss"],
                peak_mib=torch.cuda.max_memory_allocated() / 2**20 if cfg.device == "cuda" else None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--block-size", type=int, default=64)
    ap.add_argument("--device", choices=["cpu", "cuda"],
                    default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    ap.add_argument("--json", action="store_true", help="write results/mixed_precision_<device>.json")
    args = ap.parse_args()
    if args.steps < 3 or args.batch_size < 1 or not 1 <= args.block_size <= 128:
        ap.error("--steps must be >= 3, --batch-size >= 1, --block-size in 1..128")
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: this machine has no CUDA GPU")
    if args.threads is not None:
        if args.threads < 1:
            ap.error(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)

    rows, records, base = [], [], None
    for precision in ("fp32", "bf16", "fp16"):
        cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, block_size=args.block_size,
                          precision=precision, device=args.device, eval_interval=10**9, eval_batches=4)
        r = measured_run(cfg)
        base = base or r["seconds_per_step"]
        rows.append([precision, r["first_step_s"], r["seconds_per_step"] * 1e3, base / r["seconds_per_step"],
                     r["final_train_loss"], r["val_loss"], r["peak_mib"]])
        records.append(dict(precision=precision, speedup_vs_fp32=base / r["seconds_per_step"], **r))
    print(f"{args.steps} steps x {args.batch_size} x {args.block_size} tokens on {args.device}")
    print(tabulate(rows, headers=["precision", "first step s", "ms/step", "speedup vs fp32", "last train loss",
                                  "val loss", "peak MiB"],
                   floatfmt=(".4g", ".3g", ".4g", ".3g", ".5f", ".5f", ".4g"), missingval="-"))
    if args.json:
        path = write_result(f"mixed_precision_{args.device}", dict(
            steps=args.steps, batch_size=args.batch_size, block_size=args.block_size,
            threads=torch.get_num_threads(), results=records))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
