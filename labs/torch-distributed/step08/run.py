"""Two torchrun "nodes" joined by c10d rendezvous on 127.0.0.1, then (--ray) the same run under Ray Train.

Both launches train the same global batches; the table compares their losses with one process.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from tabulate import tabulate

from launch import free_port, run_all, torchrun_cmd
from train import parse_config, train


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, add_help=False)
    ap.add_argument("--ray", action="store_true", help="also train under Ray Train (starts a local Ray cluster)")
    args, rest = ap.parse_known_args(argv)
    cfg, _ = parse_config(rest)  # train.py's own flags, checked here first
    if cfg.batch_size % 2:
        ap.error(f"--batch-size must be even (2 nodes, 2 Ray workers); got {cfg.batch_size}")
    runs = {}
    with tempfile.TemporaryDirectory() as out:
        node = torchrun_cmd(["train.py", *rest, "--out", f"{out}/nodes"], 1, free_port(), nnodes=2, run_id="nodes")
        print("$ " + " ".join(["torchrun", *node[3:]]) + "    # twice: node A and node B")
        done = run_all([node, node], timeout=300)
        if any(d.returncode != 0 for d in done):
            sys.exit("a torchrun node failed:\n" + "\n".join(d.stderr[-1500:] for d in done))
        runs["2 torchrun nodes"] = [json.loads(Path(out, "nodes", f"rank{r}.json").read_text()) for r in range(2)]
        print("node ranks (GROUP_RANK):", [r["process"]["GROUP_RANK"] for r in runs["2 torchrun nodes"]])
        if args.ray:
            print("$ python ray_train.py --workers 2")
            proc = subprocess.run([sys.executable, "ray_train.py", *rest, "--out", f"{out}/ray"], timeout=600,
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                sys.exit(f"Ray Train failed:\n{proc.stderr[-2000:]}")
            runs["Ray Train, 2 workers"] = [json.loads(Path(out, "ray", f"rank{r}.json").read_text()) for r in range(2)]
    ref = train(cfg, log=lambda _: None)[1]
    rows = [[step + 1, ref["loss"][step], *(r[0]["loss"][step] for r in runs.values())] for step in range(cfg.steps)]
    print(tabulate(rows, headers=["step", "1 process loss", *runs], floatfmt=("d", ".6f", ".6f", ".6f")))


if __name__ == "__main__":
    main(sys.argv[1:])
