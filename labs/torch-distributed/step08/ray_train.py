"""The same training under Ray Train: TorchTrainer starts the workers and their process group.

Ray plays torchrun's part: it starts one worker process per rank (here on a local Ray
cluster of 2 CPUs that this script starts and stops), sets up torch.distributed with
gloo (nccl with use_gpu=True), and calls train_loop on every worker. The training code
is unchanged: it finds the process group already initialized.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

from train import TrainConfig, parse_config


def train_loop(config: dict) -> None:
    """Runs on every Ray worker, inside the process group Ray Train built."""
    import ray.train
    import torch

    from train import train
    ctx = ray.train.get_context()
    rank, world_size = ctx.get_world_rank(), ctx.get_world_size()
    cfg = TrainConfig(**config["train"])
    _, history = train(cfg, lambda line: None, rank, world_size, torch.device("cpu"))
    import torch.distributed as dist
    info = dict(rank=dist.get_rank(), world_size=dist.get_world_size(), backend=dist.get_backend(), pid=os.getpid())
    Path(config["out"], f"rank{rank}.json").write_text(json.dumps({"process": info, **history}))


def run(cfg: TrainConfig, out: str, workers: int = 2) -> None:
    """Start a local Ray cluster (its own temp dir, no dashboard), fit, and always shut it down."""
    import ray
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer
    with tempfile.TemporaryDirectory(prefix="ray") as tmp:  # short: Ray's socket paths must stay < 108 chars
        ray.init(num_cpus=workers, include_dashboard=False, _temp_dir=tmp, log_to_driver=False,
                 configure_logging=False)
        try:
            trainer = TorchTrainer(train_loop, train_loop_config={"train": asdict(cfg), "out": out},
                                   scaling_config=ScalingConfig(num_workers=workers, use_gpu=False),
                                   run_config=RunConfig(storage_path=os.path.join(tmp, "runs"), name="lab"))
            trainer.fit()
        finally:
            ray.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", required=True, help="each worker writes OUT/rank<RANK>.json")
    args, rest = ap.parse_known_args()
    cfg, _ = parse_config(rest)
    if not 1 <= args.workers <= 8 or cfg.batch_size % args.workers:
        ap.error(f"--workers must be in 1..8 and divide --batch-size {cfg.batch_size}")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    run(cfg, args.out, args.workers)


if __name__ == "__main__":
    main()
