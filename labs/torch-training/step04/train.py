"""The training loop: sample a batch, compute the next-token loss, step the optimizer.

Now with periodic evaluation and checkpoints that resume a run exactly."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from checkpoint import load_checkpoint, save_checkpoint
from data import eval_batches, get_batch, load_split
from loss import next_token_loss
from model import Llama, ModelConfig
from optim import AdamW, clip_grad_norm, lr_at, param_groups


@dataclass
class TrainConfig:
    steps: int = 300
    batch_size: int = 16
    block_size: int = 64
    vocab_size: int = 2048
    lr: float = 3e-3           # peak learning rate, reached after warmup
    min_lr: float = 3e-4       # where the cosine ends
    warmup_steps: int = 20
    weight_decay: float = 0.1
    grad_clip: float = 1.0     # max global gradient norm
    seed: int = 0
    log_interval: int = 25
    eval_batches: int = 8      # fixed val windows: eval_batches * batch_size * block_size tokens
    eval_interval: int = 100
    ckpt_path: str | None = None  # where checkpoints go; None: no checkpoints
    save_interval: int = 100
    resume: bool = False       # continue from ckpt_path if it exists


@torch.no_grad()
def evaluate(model: Llama, data: torch.Tensor, cfg: TrainConfig) -> float:
    """Mean next-token loss over the same fixed windows of `data` every call."""
    model.eval()
    losses = [next_token_loss(model(x), y).item()
              for x, y in eval_batches(data, cfg.batch_size, cfg.block_size, cfg.eval_batches)]
    model.train()
    return sum(losses) / len(losses)


def train(cfg: TrainConfig, model_cfg: ModelConfig | None = None, log=print,
          stop_at: int | None = None) -> tuple[Llama, dict]:
    """Train for cfg.steps steps; `stop_at` ends early after saving, like a job killed at that step."""
    torch.manual_seed(cfg.seed)  # the model's initial weights
    model_cfg = model_cfg or ModelConfig(vocab_size=cfg.vocab_size, block_size=cfg.block_size)
    train_data, val_data = load_split("train", cfg.vocab_size), load_split("val", cfg.vocab_size)
    model = Llama(model_cfg)
    optimizer = AdamW(param_groups(model, cfg.weight_decay), lr=cfg.lr, betas=(0.9, 0.95))
    batches = torch.Generator().manual_seed(cfg.seed)  # its own RNG: the batch order is reproducible
    history = {"loss": [], "lr": [], "grad_norm": [], "val": []}
    start = 1
    if cfg.resume and cfg.ckpt_path and Path(cfg.ckpt_path).exists():
        done, history, saved_cfg = load_checkpoint(cfg.ckpt_path, model, optimizer, batches)
        if {**saved_cfg, "resume": cfg.resume} != asdict(cfg):
            log("note: the checkpoint was written with a different config; the run will not be exact")
        start = done + 1
        log(f"resumed from {cfg.ckpt_path} after step {done}")
    for step in range(start, cfg.steps + 1):
        lr = lr_at(step - 1, cfg.lr, cfg.warmup_steps, cfg.steps, cfg.min_lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = get_batch(train_data, cfg.batch_size, cfg.block_size, batches)
        loss = next_token_loss(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = clip_grad_norm(model.parameters(), cfg.grad_clip)
        optimizer.step()
        history["loss"].append(loss.item())
        history["lr"].append(lr)
        history["grad_norm"].append(grad_norm)
        if step % cfg.log_interval == 0 or step == cfg.steps:
            log(f"step {step:5d} | loss {loss.item():.4f} | lr {lr:.2e} | grad norm {grad_norm:.3f}")
        if step % cfg.eval_interval == 0 or step == cfg.steps:
            history["val"].append((step, evaluate(model, val_data, cfg)))
            log(f"step {step:5d} | val loss {history['val'][-1][1]:.4f}")
        if cfg.ckpt_path and (step % cfg.save_interval == 0 or step in (stop_at, cfg.steps)):
            save_checkpoint(cfg.ckpt_path, step, model, optimizer, batches, history, asdict(cfg))
        if step == stop_at:
            log(f"stopped after step {step} (checkpoint: {cfg.ckpt_path})")
            break
    history["val_loss"] = evaluate(model, val_data, cfg)
    return model, history
