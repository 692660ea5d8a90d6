"""Time a training step (forward + backward) with and without activation checkpointing.

Prints the median time per step next to the counted FLOPs and the peak activation
memory (formula, checked in the tests), so the trade-off reads in one table.
Timing is wall clock on whatever this machine is doing: compare rows of one run.
"""
from __future__ import annotations

import argparse

import torch
from tabulate import tabulate
from torch.utils.flop_counter import FlopCounterMode

from block import Config, init_params, lm_loss, peak_activation_bytes
from dlc_shared.bench import median, time_fn, write_result


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lm-batch", type=positive_int, default=4, help="sequences per batch")
    ap.add_argument("--seq", type=positive_int, default=128, help="sequence length")
    ap.add_argument("--layers", type=positive_int, default=4, help="transformer blocks")
    ap.add_argument("--repeat", type=positive_int, default=5, help="timed steps per setting (median reported)")
    ap.add_argument("--threads", type=positive_int, default=None, help="CPU threads for torch (default: torch's own)")
    ap.add_argument("--json", action="store_true", help="also write results/checkpointing.json")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(1)
    idx, targets = (torch.randint(0, 512, (args.lm_batch, args.seq), generator=gen) for _ in range(2))
    rows, records, steps = [], [], []
    for checkpoint in (False, True):
        cfg = Config(n_layers=args.layers, checkpoint=checkpoint)
        params = init_params(cfg)
        with FlopCounterMode(display=False) as counter:
            lm_loss(idx, targets, params, cfg).backward()
        steps.append(lambda cfg=cfg, params=params: lm_loss(idx, targets, params, cfg).backward())
        records.append({"checkpoint": checkpoint, "flops": counter.get_total_flops(),
                        "peak_activation_bytes": peak_activation_bytes(cfg, args.lm_batch, args.seq, 4),
                        "samples_s": []})
    # alternate the settings step by step, so a change in machine load hits both alike
    for _ in range(args.repeat):
        for step, record in zip(steps, records):
            record["samples_s"] += time_fn(step, warmup=0, repeat=1)
    for record in records:
        record["median_s"] = median(record["samples_s"])
    base = records[0]
    for r in records:  # the ratios the table prints, kept with the record
        r["vs_first_row"] = {"peak_activation_bytes": r["peak_activation_bytes"] / base["peak_activation_bytes"],
                             "flops": r["flops"] / base["flops"], "median_s": r["median_s"] / base["median_s"]}
    for r in records:
        rows.append(["on" if r["checkpoint"] else "off", f"{r['peak_activation_bytes']:,}",
                     f"{r['peak_activation_bytes'] / base['peak_activation_bytes']:.2f}", f"{r['flops']:,}",
                     f"{r['flops'] / base['flops']:.3f}", f"{r['median_s'] * 1e3:.1f}",
                     f"{r['median_s'] / base['median_s']:.2f}"])
    print(f"activation checkpointing, float32, eager attention  (B={args.lm_batch}, T={args.seq}, "
          f"layers={args.layers}, median of {args.repeat} steps, {torch.get_num_threads()} threads)")
    print(tabulate(rows, headers=["checkpoint", "peak activations", "x", "FLOPs", "x", "ms / step", "x"],
                   colalign=("left",) + ("right",) * 6, disable_numparse=True))
    if args.json:
        path = write_result("checkpointing", {"settings": vars(args), "threads": torch.get_num_threads(),
                                              "rows": records})
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
