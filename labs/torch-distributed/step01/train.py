"""The single-process baseline: the losses every parallel run in this lab must reproduce.

One process samples a global batch, computes the mean next-token loss over all its
B*T positions, backpropagates, clips the gradient norm and takes an AdamW step.
Later steps split the same global batch over several processes; they are correct
when they print the same losses, step by step, as this file.
"""
from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from data import get_batch, load_split
from loss import next_token_loss
from model import Llama, ModelConfig


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


def model_config(cfg: TrainConfig) -> ModelConfig:
    return ModelConfig(vocab_size=cfg.vocab_size, block_size=cfg.block_size, n_layer=cfg.n_layer,
                       n_head=2, n_kv_head=1, d_model=cfg.d_model, d_ff=2 * cfg.d_model)


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


def train(cfg: TrainConfig, log=print) -> tuple[Llama, dict]:
    model, optimizer = build(cfg)
    data = load_split("train", cfg.vocab_size)
    batches = torch.Generator().manual_seed(cfg.seed)  # its own RNG: the batch order is reproducible
    history = {"loss": [], "grad_norm": [], "lr": []}
    for step in range(1, cfg.steps + 1):
        lr = lr_at(step - 1, cfg.lr, cfg.warmup_steps, cfg.steps, cfg.min_lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = get_batch(data, cfg.batch_size, cfg.block_size, batches)
        loss = next_token_loss(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
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
    ap.add_argument("--out", help="write the loss history as JSON to this file")
    args = ap.parse_args(argv)
    cfg = TrainConfig(**{k: getattr(args, k) for k in asdict(d)})
    if cfg.steps < 1 or cfg.batch_size < 1 or not 1 <= cfg.block_size <= 512:
        ap.error("--steps and --batch-size must be >= 1, --block-size in 1..512")
    return cfg, args


def main(argv=None) -> None:
    cfg, args = parse_config(argv)
    _, history = train(cfg)
    if args.out:
        Path(args.out).write_text(json.dumps({"config": asdict(cfg), **history}))


if __name__ == "__main__":
    main()
