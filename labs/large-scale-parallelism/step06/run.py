"""Expert parallelism: MoE experts split over dp ranks, tokens moved by all-to-all; losses, drops and bytes."""
from __future__ import annotations

import argparse
import math
import sys
from collections import Counter

from tabulate import tabulate

from grid import Grid
from launch import launch
from model import Config, LanguageModel, MoE, batch, capacity
from parallel import parallel_run
from train import grad_pairs, reference_run

BATCH, LR = 8, 0.5


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ep", type=positive_int, default=4, help="expert-parallel (= data-parallel) ranks")
    parser.add_argument("--experts", type=positive_int, default=8)
    parser.add_argument("--capacity-factor", type=float, default=1.0)
    parser.add_argument("--steps", type=positive_int, default=2)
    args = parser.parse_args(argv)
    if args.experts % args.ep or BATCH % args.ep or args.ep > 8 or args.experts > 64 or args.steps > 10:
        parser.error(f"--ep must divide --experts and the batch {BATCH} (at most 8 ranks, 64 experts, 10 steps)")
    if not (math.isfinite(args.capacity_factor) and args.capacity_factor > 0):
        parser.error("--capacity-factor must be a positive number")
    cfg = Config(n_expert=args.experts, top_k=2, capacity_factor=args.capacity_factor, moe_groups=(args.ep, 1))
    grid = Grid(dp=args.ep)
    results = launch(parallel_run, grid.size, grid, cfg, BATCH, args.steps, LR)
    ref_losses, ref_grads = reference_run(cfg, BATCH, args.steps, LR)
    print(f"[1] ep={args.ep}, {args.experts} experts ({args.experts // args.ep} per rank), top-2, "
          f"capacity factor {args.capacity_factor}")
    print(tabulate([[s, f"{a:.7f}", f"{b:.7f}", f"{abs(a - b):.1e}"]
                    for s, (a, b) in enumerate(zip(ref_losses, results[0]["losses"]))],
                   headers=["step", "one process", "expert parallel", "|diff|"], disable_numparse=True))
    worst = max((g - w).abs().max().item() for _, _, g, w in grad_pairs(results, ref_grads))
    print(f"largest |gradient difference| over all ranks, weights and steps: {worst:.1e}")
    model = LanguageModel(cfg)
    model(*batch(cfg, BATCH))
    ref_dropped = sum(m.dropped[0] for m in model.modules() if isinstance(m, MoE))
    tokens = BATCH // args.ep * cfg.block_size
    cap = capacity(tokens, cfg)
    print(f"\n[2] step 0: {tokens} tokens per rank x top-2 over {args.experts} experts: capacity "
          f"ceil({args.capacity_factor} * {tokens} * 2 / {args.experts}) = {cap} per expert")
    print(tabulate([[r, res["dropped"][0], 2 * tokens * cfg.n_layer] for r, res in enumerate(results)]
                   + [["all", sum(res["dropped"][0] for res in results), f"one process: {ref_dropped}"]],
                   headers=["rank", "dropped assignments", "of (2 layers)"]))
    buffer = args.experts * cap * cfg.n_embd * 4
    sent = Counter(c for c in results[0]["comm"][0] if c[0] == "ep")
    print(f"\n[3] rank 0's all-to-alls in one step: {sum(sent.values())} (formula 4 per MoE layer = "
          f"{4 * cfg.n_layer}), each of E * capacity * D * 4 = {buffer} bytes, "
          f"{buffer * (args.ep - 1) // args.ep} of them to other ranks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
