"""DP, PP, CP, TP (+SP) and EP on one grid of gloo processes: loss against one process; what each rank holds and sends."""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict

from tabulate import tabulate

from grid import AXES, Grid
from launch import launch
from model import Config
from pipeline import pipeline_run
from plan import rank_params
from train import grad_pairs, reference_run

BATCH, LR, M = 8, 0.5, 2


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def problems(grid: Grid, cfg: Config, sp: bool) -> list[str]:
    out = []
    if grid.size > 8:
        out.append(f"dp*pp*cp*tp = {grid.size}; this demo starts at most 8 processes")
    if BATCH % (grid.dp * M):
        out.append(f"dp * {M} micro-batches must divide the batch {BATCH}")
    if cfg.n_layer % grid.pp:
        out.append(f"pp must divide n_layer = {cfg.n_layer}")
    if cfg.block_size % (grid.cp * (grid.tp if sp else 1)):
        out.append(f"cp (* tp with --sp) must divide the sequence length {cfg.block_size}")
    if cfg.n_kv_head % grid.tp or cfg.vocab_size % grid.tp:
        out.append(f"tp must divide n_kv_head = {cfg.n_kv_head}")
    if cfg.n_expert and (cfg.n_expert % grid.dp or sp):
        out.append("experts are split over dp: dp must divide --experts, and MoE runs without --sp")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    for axis, default in zip(AXES, (2, 2, 1, 2)):
        parser.add_argument(f"--{axis}", type=positive_int, default=default)
    parser.add_argument("--sp", action="store_true", help="sequence parallelism in the TP groups")
    parser.add_argument("--experts", type=int, default=4, help="experts per MoE layer; 0 for dense MLPs")
    parser.add_argument("--schedule", choices=["afab", "1f1b"], default="1f1b")
    parser.add_argument("--steps", type=positive_int, default=2)
    args = parser.parse_args(argv)
    grid = Grid(args.dp, args.pp, args.cp, args.tp)
    if args.experts < 0 or args.steps > 10:
        parser.error("--experts must be >= 0 and --steps at most 10")
    cfg = Config(n_expert=args.experts, moe_groups=(args.dp * M, args.cp), dropout=0.25 if args.sp else 0.0)
    for message in problems(grid, cfg, args.sp)[:1]:
        parser.error(message)
    results = launch(pipeline_run, grid.size, grid, cfg, BATCH, args.steps, LR, args.schedule, M, args.sp)
    ref_losses, ref_grads = reference_run(cfg, BATCH, args.steps, LR)
    last = next(r for r in results if r["losses"][0] is not None)
    print(f"[1] {grid}, sp={args.sp}, experts={args.experts}, {args.schedule} with {M} micro-batches")
    print(tabulate([[s, f"{a:.7f}", f"{b:.7f}", f"{abs(a - b):.1e}"]
                    for s, (a, b) in enumerate(zip(ref_losses, last["losses"]))],
                   headers=["step", "one process", "4D", "|diff|"], disable_numparse=True))
    worst = max((g - w).abs().max().item() for _, _, g, w in grad_pairs(results, ref_grads))
    print(f"largest |gradient difference| over all ranks, weights and steps: {worst:.1e}")
    rows = []
    for r, res in enumerate(results):
        sent = defaultdict(int)
        for group, _, nbytes in res["comm"][0]:
            sent[group] += nbytes
        rows.append([r, *grid.coords(r).values(), sum(g.numel() for _, g in res["grads"][0].values()),
                     rank_params(cfg, grid, r), *(sent[g] for g in ("tp", "pp", "cp", "ep", "dp"))])
    print("\n[2] per rank: parameters (measured, formula) and bytes of the tensors each group's collectives"
          " worked on in one step")
    print(tabulate(rows, headers=["rank", *AXES, "params", "formula", "tp", "pp", "cp", "ep", "dp grads"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
