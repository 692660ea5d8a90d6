"""Launch train.py under torchrun: each rank reports what it was told, and trains on its share alone."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from tabulate import tabulate

from launch import free_port, run_all, torchrun_cmd
from train import parse_config


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, add_help=False)
    ap.add_argument("--nproc", type=int, default=2, help="processes (ranks) to start, 1..8")
    args, rest = ap.parse_known_args(argv)
    cfg, _ = parse_config(rest)  # train.py's own flags, checked here first
    if not 1 <= args.nproc <= 8 or cfg.batch_size % args.nproc:
        ap.error(f"--nproc must be in 1..8 and divide --batch-size {cfg.batch_size}; got {args.nproc}")
    with tempfile.TemporaryDirectory() as out:
        cmd = torchrun_cmd(["train.py", *rest, "--out", out], args.nproc, free_port())
        print("$ " + " ".join(["torchrun", *cmd[3:]]))
        (done,) = run_all([cmd], timeout=300)
        if done.returncode != 0:
            sys.exit(f"torchrun failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
        ranks = [json.loads(Path(out, f"rank{r}.json").read_text()) for r in range(args.nproc)]
    print(tabulate([[r["process"][k] for k in ("rank", "RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR",
                                                "MASTER_PORT", "backend", "pid")] for r in ranks],
                   headers=["get_rank()", "RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
                            "backend", "pid"]))
    rows = [[step + 1, *(r["loss"][step] for r in ranks)] for step in range(cfg.steps)]
    print(tabulate(rows, headers=["step", *(f"rank {r} loss" for r in range(args.nproc))], floatfmt=".6f"))
    print("no communication: each rank trained its own copy on its own rows, so the losses differ")


if __name__ == "__main__":
    main(sys.argv[1:])
