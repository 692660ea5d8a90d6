"""Context parallelism: ring attention on a cp (x tp) grid over gloo, against one process; ring traffic and work per rank."""
from __future__ import annotations

import argparse
import sys
from collections import Counter

from tabulate import tabulate

from grid import Grid
from launch import launch
from model import Config
from parallel import parallel_run
from train import grad_pairs, reference_run

BATCH, LR = 4, 0.5


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def ring_send_bytes(cfg: Config, batch: int, cp: int) -> int:
    """One ring pass moves this rank's K and V chunk: 2 * B * Hkv * (T/cp) * d * 4 bytes."""
    return 2 * batch * cfg.n_kv_head * (cfg.block_size // cp) * cfg.head_dim * 4


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cp", type=positive_int, default=4)
    parser.add_argument("--tp", type=positive_int, default=1)
    parser.add_argument("--steps", type=positive_int, default=2)
    args = parser.parse_args(argv)
    cfg = Config()
    if cfg.block_size % args.cp or args.cp * args.tp > 8 or cfg.n_kv_head % args.tp or args.steps > 10:
        parser.error(f"--cp must divide the sequence length {cfg.block_size}, --tp must divide n_kv_head "
                     f"{cfg.n_kv_head}, cp * tp at most 8, --steps at most 10")
    grid = Grid(cp=args.cp, tp=args.tp)
    results = launch(parallel_run, grid.size, grid, cfg, BATCH, args.steps, LR)
    ref_losses, ref_grads = reference_run(cfg, BATCH, args.steps, LR)
    print(f"[1] cp={args.cp} tp={args.tp}: each rank holds {cfg.block_size // args.cp} of {cfg.block_size} positions")
    print(tabulate([[s, f"{a:.7f}", f"{b:.7f}", f"{abs(a - b):.1e}"]
                    for s, (a, b) in enumerate(zip(ref_losses, results[0]["losses"]))],
                   headers=["step", "one process", "ring attention", "|diff|"], disable_numparse=True))
    worst = max((g - w).abs().max().item() for _, _, g, w in grad_pairs(results, ref_grads))
    print(f"largest |gradient difference| over all ranks, weights and steps: {worst:.1e}")
    nbytes = ring_send_bytes(cfg, BATCH, args.cp)
    rows = []
    for r in range(0, grid.size, args.tp):
        cpi = grid.coords(r)["cp"]
        sends = Counter(c for c in results[r]["comm"][0] if c[0] == "cp")
        rows.append([r, cpi, sum(sends.values()), 2 * (args.cp - 1) * cfg.n_layer, nbytes, cpi + 1, args.cp])
    print("\n[2] per rank in one step: ring sends (measured, formula 2(cp-1)L), bytes per send, attention blocks")
    print(tabulate(rows, headers=["rank", "cp", "sends", "formula", "bytes each", "blocks computed", "of"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
