"""Launch train.py under torchrun; compare the ranks' losses with one process."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from tabulate import tabulate

from launch import free_port, run_all, torchrun_cmd
from train import parse_config, train


def launch(script_args: list[str], nproc: int, extra: tuple[str, ...] = ()) -> str:
    cmd = torchrun_cmd(script_args, nproc, free_port(), extra=extra)
    print("$ " + " ".join(["torchrun", *cmd[3:]]))
    (done,) = run_all([cmd], timeout=300)
    if done.returncode != 0:
        sys.exit(f"torchrun failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, add_help=False)
    ap.add_argument("--nproc", type=int, default=2, help="processes (ranks) to start, 1..8")
    args, rest = ap.parse_known_args(argv)
    cfg, _ = parse_config(rest)  # train.py's own flags, checked here first
    if not 1 <= args.nproc <= 8 or cfg.batch_size % args.nproc:
        ap.error(f"--nproc must be in 1..8 and divide --batch-size {cfg.batch_size}; got {args.nproc}")
    with tempfile.TemporaryDirectory() as out:
        launch(["train.py", *rest, "--out", out], args.nproc)
        ranks = [json.loads(Path(out, f"rank{r}.json").read_text()) for r in range(args.nproc)]
    print("DDP buckets per step (bytes):", ranks[0]["buckets"])
    ref = train(cfg, log=lambda _: None)[1]
    rows = [[step + 1, ref["loss"][step], ranks[0]["loss"][step], abs(ranks[0]["loss"][step] - ref["loss"][step]),
             ranks[0]["comm_bytes"][step] if ranks[0].get("comm_bytes") else "-"] for step in range(cfg.steps)]
    print(tabulate(rows, headers=["step", "1 process loss", f"{args.nproc} ranks loss", "|diff|",
                                  "gradient bytes all-reduced"], floatfmt=("d", ".6f", ".6f", ".1e")))


if __name__ == "__main__":
    main(sys.argv[1:])
