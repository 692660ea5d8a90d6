"""FSDP2 (`fully_shard`): each rank keeps 1/k of every weight, gradient and AdamW state.

fully_shard turns each decoder block (and the rest of the model) into a unit whose weights
are split by rows over the ranks (DTensors). Before a unit's forward or backward, an
all-gather rebuilds its full weights for a moment; after backward, a reduce-scatter leaves
each rank the averaged gradient of its own rows only, and AdamW updates only those rows.
Sampler, rank-0 checkpoints and restarts are step 5's. With --profile-dir every rank writes
a torch.profiler trace of its run, and rank 0 prints the collectives' bandwidth table.
"""
from __future__ import annotations

import argparse
from contextlib import nullcontext
import json
import math
import os
import signal
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tabulate import tabulate
from torch.profiler import ProfilerActivity, profile

from collectives import all_reduce_mean_
from checkpoint import load_checkpoint, save_checkpoint
from comm_profile import bandwidth_table, collective_events
from data import Windows, load_split, rank_batches
from distributed import close, describe, init
from loss import next_token_loss
from model import Llama, ModelConfig
from torch.distributed.fsdp import fully_shard
from torch.distributed.tensor import DTensor


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
    ckpt_path: str = ""        # where rank 0 saves; "" for no checkpoints
    save_interval: int = 2
    kill_at: int = 0           # > 0: on the first attempt, the last rank kills itself at this step (a crash)


def model_config(cfg: TrainConfig) -> ModelConfig:
    return ModelConfig(vocab_size=cfg.vocab_size, block_size=cfg.block_size, n_layer=cfg.n_layer,
                       n_head=2, n_kv_head=1, d_model=cfg.d_model, d_ff=2 * cfg.d_model)


def local_bytes(tensors) -> int:
    """Bytes this rank stores: a DTensor counts its local shard only."""
    return sum((t.to_local() if isinstance(t, DTensor) else t).nbytes for t in tensors)


def lr_at(step: int, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float) -> float:
    """Learning rate for 0-based `step`: linear warmup to max_lr, then cosine decay to min_lr."""
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * progress))


def build(cfg: TrainConfig, world_size: int = 1,
          device: torch.device = torch.device("cpu")) -> tuple[Llama, torch.optim.Optimizer]:
    """The model from the seed (sharded over the ranks if several), and AdamW over what this rank holds."""
    torch.manual_seed(cfg.seed)
    model = Llama(model_config(cfg)).to(device)
    if world_size > 1:
        for block in model.layers:
            fully_shard(block)  # one unit: gathered for its forward and backward, then freed again
        fully_shard(model)      # the root unit: embedding (tied with the head) and the final norm
    # After sharding: the optimizer must hold the sharded parameters (DTensors), not the originals.
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([dict(params=decay, weight_decay=cfg.weight_decay),
                                   dict(params=no_decay, weight_decay=0.0)],
                                  lr=cfg.lr, betas=(0.9, 0.95), foreach=False)
    return model, optimizer


def train(cfg: TrainConfig, log=print, rank: int = 0, world_size: int = 1,
          device: torch.device = torch.device("cpu"), stop_at: int | None = None) -> tuple[Llama, dict]:
    """Train cfg.steps steps; `stop_at` ends early after saving, like a job stopped at that step."""
    model, optimizer = build(cfg, world_size, device)
    history = {"loss": [], "grad_norm": [], "lr": [], "param_bytes": local_bytes(model.parameters())}
    start = 1
    if cfg.ckpt_path and Path(cfg.ckpt_path).exists():  # every rank reads rank 0's file
        done, history = load_checkpoint(cfg.ckpt_path, model, optimizer)
        start = done + 1
        log(f"resumed from {cfg.ckpt_path} after step {done}")
    batches = rank_batches(Windows(load_split("train", cfg.vocab_size), cfg.block_size), cfg.batch_size,
                           rank, world_size, cfg.seed, start)
    for step in range(start, cfg.steps + 1):
        lr = lr_at(step - 1, cfg.lr, cfg.warmup_steps, cfg.steps, cfg.min_lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        if step == cfg.kill_at and rank == world_size - 1 and os.environ.get("TORCHELASTIC_RESTART_COUNT") == "0":
            os.kill(os.getpid(), signal.SIGKILL)  # a crash: no cleanup, no message, the process is gone
        x, y = (t.to(device) for t in next(batches))
        loss = next_token_loss(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # FSDP's hooks all-gather each unit's weights again, then reduce-scatter its gradients
        if world_size > 1:
            loss = loss.detach().clone()
            all_reduce_mean_([loss])  # the global batch's loss, for the log
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        if isinstance(grad_norm, DTensor):
            grad_norm = grad_norm.full_tensor()  # the norm over all ranks' shards (computed with an all-reduce)
        optimizer.step()
        if step == start:
            history["optimizer_bytes"] = local_bytes(t for st in optimizer.state.values() for t in st.values()
                                                     if torch.is_tensor(t) and t.dim() > 0)
        history["loss"].append(loss.item())
        history["grad_norm"].append(grad_norm.item())
        history["lr"].append(lr)
        log(f"step {step:3d} | loss {loss.item():.6f} | grad norm {grad_norm.item():.4f} | lr {lr:.2e}")
        if cfg.ckpt_path and (step % cfg.save_interval == 0 or step in (stop_at, cfg.steps)):
            save_checkpoint(cfg.ckpt_path, step, model, optimizer, history, rank)
        if step == stop_at:
            break
    return model, history


def parse_config(argv=None) -> tuple[TrainConfig, argparse.Namespace]:
    ap = argparse.ArgumentParser(description=__doc__)
    d = TrainConfig()
    for name, value in asdict(d).items():
        ap.add_argument("--" + name.replace("_", "-"), type=type(value), default=value)
    ap.add_argument("--out", help="each rank writes its loss history as JSON to OUT/rank<RANK>.json")
    ap.add_argument("--profile-dir", help="each rank writes a profiler trace to DIR/trace_rank<RANK>.json")
    args = ap.parse_args(argv)
    cfg = TrainConfig(**{k: getattr(args, k) for k in asdict(d)})
    if cfg.steps < 1 or cfg.batch_size < 1 or not 1 <= cfg.block_size <= 512 or cfg.save_interval < 1:
        ap.error("--steps, --batch-size and --save-interval must be >= 1, --block-size in 1..512")
    return cfg, args


def main(argv=None) -> None:
    cfg, args = parse_config(argv)
    rank, world_size, device = init()
    try:
        if cfg.batch_size % world_size:
            sys.exit(f"error: --batch-size {cfg.batch_size} does not split evenly over {world_size} ranks")
        activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
        profiler = profile(activities=activities, record_shapes=True) if args.profile_dir else nullcontext()
        with profiler as prof:
            _, history = train(cfg, (lambda line: print(f"[rank {rank}] {line}", flush=True)), rank, world_size,
                               device)
        if args.profile_dir:
            trace = Path(args.profile_dir, f"trace_rank{rank}.json")
            trace.parent.mkdir(parents=True, exist_ok=True)
            prof.export_chrome_trace(str(trace))
            if rank == 0:
                rows = bandwidth_table(collective_events(trace), world_size)
                print(tabulate([list(r.values()) for r in rows], headers=list(rows[0]), floatfmt=".3f"))
        if args.out:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            Path(args.out, f"rank{rank}.json").write_text(json.dumps(
                {"config": asdict(cfg), "process": describe(), **history}))
    finally:
        close()


if __name__ == "__main__":
    main()
