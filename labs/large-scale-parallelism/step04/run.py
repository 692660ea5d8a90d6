"""Pipeline parallelism: AFAB and 1F1B timelines, their bubble against (p-1)/m, and a gloo run equal to one process."""
from __future__ import annotations

import argparse
import sys
from fractions import Fraction

from tabulate import tabulate

from grid import Grid
from launch import launch
from model import Config
from pipeline import pipeline_run
from schedule import SCHEDULES, bubble, peak_in_flight, render, simulate
from train import grad_pairs, reference_run

BATCH, LR = 8, 0.5


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pp", type=positive_int, default=4, help="stages in the printed timelines")
    parser.add_argument("--microbatches", type=positive_int, default=8, help="micro-batches in the timelines")
    parser.add_argument("--steps", type=positive_int, default=2)
    args = parser.parse_args(argv)
    if args.pp > 16 or args.microbatches > 64 or args.steps > 10:
        parser.error("--pp at most 16, --microbatches at most 64, --steps at most 10")
    p, m = args.pp, args.microbatches
    for name, schedule in SCHEDULES.items():
        print(f"[{name}] p={p} m={m}: one cell per op time unit, '..' idle")
        print(render(simulate(schedule, p, m), p) + "\n")
    rows = []
    for mm in (1, 2, 4, 8, 16, 32):
        for name, schedule in SCHEDULES.items():
            idle_total, idle_busy = bubble(simulate(schedule, p, mm), p)
            rows.append([name, mm, str(idle_total), str(Fraction(p - 1, mm + p - 1)), str(idle_busy),
                         str(Fraction(p - 1, mm)), max(peak_in_flight(schedule(p, mm, s)) for s in range(p))])
    print(f"[bubble] p={p}: measured on the simulated timeline vs the formulas")
    print(tabulate(rows, headers=["schedule", "m", "idle/total", "(p-1)/(m+p-1)", "idle/busy", "(p-1)/m",
                                  "max micro-batches alive"], disable_numparse=True))
    cfg = Config()
    grid = Grid(pp=2)
    ref_losses, ref_grads = reference_run(cfg, BATCH, args.steps, LR)
    print("\n[gloo] pp=2, 4 micro-batches of 2 sequences: loss per step, one process vs each schedule")
    rows = [[s, f"{ref_losses[s]:.7f}"] for s in range(args.steps)]
    worst = {}
    for name in SCHEDULES:
        results = launch(pipeline_run, 2, grid, cfg, BATCH, args.steps, LR, name, 4)
        for s in range(args.steps):
            rows[s].append(f"{results[1]['losses'][s]:.7f}")
        worst[name] = max((g - w).abs().max().item() for _, _, g, w in grad_pairs(results, ref_grads))
    print(tabulate(rows, headers=["step", "one process", *SCHEDULES], disable_numparse=True))
    print("largest |gradient difference|: " + ", ".join(f"{k} {v:.1e}" for k, v in worst.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
