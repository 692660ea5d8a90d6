"""Train with TP + sequence parallelism (and DP) on gloo; compare with one process; count collectives and saved activations."""
from __future__ import annotations

import argparse
import sys
from collections import Counter

from tabulate import tabulate

from costs import dp_step_collectives, ring_bytes_sent, sp_step_collectives, tp_step_collectives
from grid import Grid
from launch import launch
from model import Config
from parallel import parallel_run
from train import grad_pairs, reference_run

BATCH, LR = 8, 0.5


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def comm_table(measured: list, expected: Counter, p: dict) -> list[list]:
    got = Counter(measured)
    rows = []
    for (group, kind, nbytes) in sorted(set(got) | set(expected)):
        rows.append([group, kind, nbytes, got[(group, kind, nbytes)], expected[(group, kind, nbytes)],
                     round(ring_bytes_sent(kind, nbytes, p[group]))])
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dp", type=positive_int, default=2)
    parser.add_argument("--tp", type=positive_int, default=2)
    parser.add_argument("--steps", type=positive_int, default=3)
    parser.add_argument("--no-sp", action="store_true", help="plain TP: all-reduces, full-sequence norms")
    parser.add_argument("--dropout", type=float, default=0.25)
    args = parser.parse_args(argv)
    if not 0.0 <= args.dropout < 1.0:
        parser.error(f"--dropout {args.dropout} is not in [0, 1)")
    cfg = Config(dropout=args.dropout)
    sp = not args.no_sp
    if cfg.n_kv_head % args.tp or cfg.vocab_size % args.tp:
        parser.error(f"--tp {args.tp} must divide n_kv_head = {cfg.n_kv_head} (and the vocabulary)")
    if BATCH % args.dp or args.steps > 10:
        parser.error(f"--dp must divide the batch {BATCH}; --steps at most 10")
    grid = Grid(dp=args.dp, tp=args.tp)
    results = launch(parallel_run, grid.size, grid, cfg, BATCH, args.steps, LR, sp)
    ref_losses, ref_grads = reference_run(cfg, BATCH, args.steps, LR)
    print(f"[1] dp={args.dp} tp={args.tp} sp={sp} dropout={args.dropout}: loss of every step, one process vs {grid.size} processes")
    print(tabulate([[s, f"{a:.7f}", f"{b:.7f}", f"{abs(a - b):.1e}"]
                    for s, (a, b) in enumerate(zip(ref_losses, results[0]["losses"]))],
                   headers=["step", "one process", "parallel", "|diff|"], disable_numparse=True))
    worst = max((got - want).abs().max().item() for _, _, got, want in grad_pairs(results, ref_grads))
    print(f"largest |gradient difference| over all ranks, weights and steps: {worst:.1e}")
    numels = [g.numel() for _, g in results[0]["grads"][0].values()]
    collectives = sp_step_collectives if sp else tp_step_collectives
    expected = collectives(cfg, BATCH // args.dp, args.tp) + dp_step_collectives(numels, args.dp)
    print("\n[2] rank 0's collectives in one training step: measured count vs formula;"
          " bytes sent per rank by a ring algorithm")
    print(tabulate(comm_table(results[0]["comm"][0], expected, {"tp": args.tp, "dp": args.dp}),
                   headers=["group", "collective", "tensor bytes", "measured", "formula", "ring bytes sent"]))
    other = launch(parallel_run, grid.size, grid, cfg, BATCH, 1, LR, not sp)[0]["saved_bytes"][0]
    sp_bytes, tp_bytes = (results[0]["saved_bytes"][0], other) if sp else (other, results[0]["saved_bytes"][0])
    print("\n[3] bytes of the tensors autograd keeps for backward on rank 0 (one forward)")
    print(tabulate([["TP only", tp_bytes], ["TP + SP", sp_bytes], ["saved by SP", tp_bytes - sp_bytes]],
                   headers=["", "bytes"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
