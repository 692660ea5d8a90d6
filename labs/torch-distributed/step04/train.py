"""DistributedDataParallel: the gradient average of step 3, done in buckets during backward.

Each rank samples the same global batch (the same seeded generator) and keeps its own
rows. DDP broadcasts rank 0's weights once, then, while backward runs, all-reduces the
gradients in buckets of about bucket_mb megabytes as soon as a bucket's gradients are
ready: communication overlaps the rest of backward. Run alone, it is step 1's baseline.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from collectives import all_reduce_mean_
from data import get_batch, load_split, shard
from distributed import close, describe, init
from loss import next_token_loss
from model import Llama, ModelConfig
from torch.distributed.algorithms.ddp_comm_hooks.default_hooks import allreduce_hook
from torch.nn.parallel import DistributedDataParallel as DDP


@dataclass
class TrainConfig:
    steps: int = 8
    batch_size: int = 8        # the global batch: sequences per optimizer step, all ranks together
    block_size: int = 32
    vocab_size: int = 2048
    d_model: int = 32
    n_layer: int = 2
    lr: float = 1e-2           # peak learning rate, reached after warmup
    min_lr: float = 1e-3
    warmup_steps: int = 2
    weight_decay: float = 0.1
    grad_clip: float = 1.0     # max global gradient norm
    seed: int = 0
    bucket_mb: float = 0.025   # DDP's bucket size in MiB (default 25; tiny here so this model has several)


def model_config(cfg: TrainConfig) -> ModelConfig:
    return ModelConfig(vocab_size=cfg.vocab_size, block_size=cfg.block_size, n_layer=cfg.n_layer,
                       n_head=2, n_kv_head=1, d_model=cfg.d_model, d_ff=2 * cfg.d_model)


def count_and_all_reduce(state: dict, bucket):
    """DDP's default hook (divide by the world size, all-reduce), recording each bucket's bytes."""
    if bucket.index() == 0:
        state["buckets"].append([])  # the first bucket of a backward
    state["buckets"][-1].append(bucket.buffer().nbytes)
    return allreduce_hook(None, bucket)


def lr_at(step: int, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float) -> float:
    """Learning rate for 0-based `step`: linear warmup to max_lr, then cosine decay to min_lr."""
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * progress))


def build(cfg: TrainConfig) -> tuple[Llama, torch.optim.Optimizer]:
    """The model from the seed, and AdamW decaying the matrices but not the RMSNorm gains."""
    torch.manual_seed(cfg.seed)
    model = Llama(model_config(cfg))
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([dict(params=decay, weight_decay=cfg.weight_decay),
                                   dict(params=no_decay, weight_decay=0.0)],
                                  lr=cfg.lr, betas=(0.9, 0.95), foreach=False)
    return model, optimizer


def train(cfg: TrainConfig, log=print, rank: int = 0, world_size: int = 1,
          device: torch.device = torch.device("cpu")) -> tuple[Llama, dict]:
    model, optimizer = build(cfg)
    model.to(device)
    data = load_split("train", cfg.vocab_size)
    batches = torch.Generator().manual_seed(cfg.seed)  # its own RNG: the batch order is reproducible
    history = {"loss": [], "grad_norm": [], "lr": [], "comm_bytes": [], "buckets": []}
    forward = model  # DDP wraps the model; evaluation and checkpoints keep using `model` itself
    if world_size > 1:
        forward = DDP(model, bucket_cap_mb=cfg.bucket_mb)
        forward.register_comm_hook(history, count_and_all_reduce)
    for step in range(1, cfg.steps + 1):
        lr = lr_at(step - 1, cfg.lr, cfg.warmup_steps, cfg.steps, cfg.min_lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = get_batch(data, cfg.batch_size, cfg.block_size, batches)
        x, y = shard(x, rank, world_size).to(device), shard(y, rank, world_size).to(device)
        loss = next_token_loss(forward(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # DDP's hooks all-reduce the gradient buckets as backward produces them
        if world_size > 1:
            history["comm_bytes"].append(sum(history["buckets"][-1]))
            loss = loss.detach().clone()
            all_reduce_mean_([loss])  # the global batch's loss, for the log
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        history["loss"].append(loss.item())
        history["grad_norm"].append(grad_norm.item())
        history["lr"].append(lr)
        log(f"step {step:3d} | loss {loss.item():.6f} | grad norm {grad_norm.item():.4f} | lr {lr:.2e}")
    return model, history


def parse_config(argv=None) -> tuple[TrainConfig, argparse.Namespace]:
    ap = argparse.ArgumentParser(description=__doc__)
    d = TrainConfig()
    for name, value in asdict(d).items():
        ap.add_argument("--" + name.replace("_", "-"), type=type(value), default=value)
    ap.add_argument("--out", help="each rank writes its loss history as JSON to OUT/rank<RANK>.json")
    args = ap.parse_args(argv)
    cfg = TrainConfig(**{k: getattr(args, k) for k in asdict(d)})
    if cfg.steps < 1 or cfg.batch_size < 1 or not 1 <= cfg.block_size <= 512:
        ap.error("--steps and --batch-size must be >= 1, --block-size in 1..512")
    return cfg, args


def main(argv=None) -> None:
    cfg, args = parse_config(argv)
    rank, world_size, device = init()
    try:
        if cfg.batch_size % world_size:
            sys.exit(f"error: --batch-size {cfg.batch_size} does not split evenly over {world_size} ranks")
        _, history = train(cfg, (lambda line: print(f"[rank {rank}] {line}", flush=True)), rank, world_size,
                           device)
        if args.out:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            Path(args.out, f"rank{rank}.json").write_text(json.dumps(
                {"config": asdict(cfg), "process": describe(), **history}))
    finally:
        close()


if __name__ == "__main__":
    main()
