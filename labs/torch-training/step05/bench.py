"""Mixed precision measured: seconds per training step and the loss reached, fp32 vs bf16 vs fp16.

Each precision trains the same model from the same seed on the same batches.
Time per step is (time of a long run - time of a short run) / extra steps, so
loading data, building the model and the final evaluation cancel out.
"""
from __future__ import annotations

import argparse
import time

import torch
from tabulate import tabulate

from dlc_shared.bench import write_result
from train import TrainConfig, train


def timed_run(cfg: TrainConfig) -> tuple[float, dict]:
    if cfg.device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    _, history = train(cfg, log=lambda _: None)
    if cfg.device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0, history


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=40, help="steps of the long run (the short run is 5)")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--block-size", type=int, default=64)
    ap.add_argument("--device", choices=["cpu", "cuda"],
                    default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    ap.add_argument("--json", action="store_true", help="write results/mixed_precision_<device>.json")
    args = ap.parse_args()
    if args.steps < 10 or args.batch_size < 1 or not 1 <= args.block_size <= 128:
        ap.error("--steps must be >= 10, --batch-size >= 1, --block-size in 1..128")
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: this machine has no CUDA GPU")
    if args.threads is not None:
        if args.threads < 1:
            ap.error(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)

    rows, records, base = [], [], None
    for precision in ("fp32", "bf16", "fp16"):
        def cfg(steps):
            return TrainConfig(steps=steps, batch_size=args.batch_size, block_size=args.block_size,
                               precision=precision, device=args.device, eval_interval=10**9, eval_batches=4)
        timed_run(cfg(2))  # warm-up: the first use of the data, the kernels and autocast is slower
        short, _ = timed_run(cfg(5))
        long, history = timed_run(cfg(args.steps))
        per_step = (long - short) / (args.steps - 5)
        base = base or per_step
        mem = torch.cuda.max_memory_allocated() / 2**20 if args.device == "cuda" else None
        rows.append([precision, per_step * 1e3, base / per_step, history["loss"][-1], history["val_loss"],
                     mem])
        records.append(dict(precision=precision, seconds_per_step=per_step, speedup_vs_fp32=base / per_step,
                            final_train_loss=history["loss"][-1], val_loss=history["val_loss"], peak_mib=mem))
    print(f"{args.steps} steps x {args.batch_size} x {args.block_size} tokens on {args.device}")
    print(tabulate(rows, headers=["precision", "ms/step", "speedup vs fp32", "last train loss",
                                  "val loss", "peak MiB"],
                   floatfmt=(".4g", ".4g", ".3g", ".5f", ".5f", ".4g"), missingval="-"))
    if args.json:
        path = write_result(f"mixed_precision_{args.device}", dict(
            steps=args.steps, batch_size=args.batch_size, block_size=args.block_size,
            threads=torch.get_num_threads(), results=records))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
