"""The training loop: sample a batch, compute the next-token loss, step the optimizer.

Now with periodic evaluation and checkpoints that resume a run exactly,
and mixed precision: bf16 autocast, or fp16 autocast with a GradScaler.
A progress bar, tokens/s and MFU show how fast it goes."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from checkpoint import load_checkpoint, save_checkpoint
from data import eval_batches, get_batch, load_split
from flops import flops_per_token
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
    precision: str = "fp32"    # fp32 | bf16 | fp16
    device: str = "cpu"
    peak_flops: float | None = None  # FLOP/s the hardware can do; MFU is printed when set


AMP_DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def autocast(cfg: TrainConfig):
    """bf16/fp16: matmuls run in 16 bits; autocast keeps softmax and reductions in fp32.

    The weights, their gradients and AdamW's m and v stay fp32 (the "master" copy):
    bf16 keeps 8 significant bits, so an update 1/1000 of a weight's size would round away.
    """
    dtype = AMP_DTYPES[cfg.precision]
    return torch.autocast(torch.device(cfg.device).type, dtype=dtype, enabled=dtype is not None)


@torch.no_grad()
def evaluate(model: Llama, data: torch.Tensor, cfg: TrainConfig) -> float:
    """Mean next-token loss over the same fixed windows of `data` every call."""
    model.eval()
    losses = []
    for x, y in eval_batches(data, cfg.batch_size, cfg.block_size, cfg.eval_batches):
        with autocast(cfg):
            losses.append(next_token_loss(model(x.to(cfg.device)), y.to(cfg.device)).item())
    model.train()
    return sum(losses) / len(losses)


def train(cfg: TrainConfig, model_cfg: ModelConfig | None = None, log=tqdm.write,
          stop_at: int | None = None) -> tuple[Llama, dict]:
    """Train for cfg.steps steps; `stop_at` ends early after saving, like a job killed at that step."""
    torch.manual_seed(cfg.seed)  # the model's initial weights
    model_cfg = model_cfg or ModelConfig(vocab_size=cfg.vocab_size, block_size=cfg.block_size)
    train_data, val_data = load_split("train", cfg.vocab_size), load_split("val", cfg.vocab_size)
    model = Llama(model_cfg).to(cfg.device)
    optimizer = AdamW(param_groups(model, cfg.weight_decay), lr=cfg.lr, betas=(0.9, 0.95))
    batches = torch.Generator().manual_seed(cfg.seed)  # its own RNG: the batch order is reproducible
    # fp16 has 5 exponent bits: gradients below ~6e-8 flush to zero. The scaler multiplies
    # the loss by S (65536 at first) so they stay representable, and divides them back.
    scaler = torch.amp.GradScaler(torch.device(cfg.device).type, enabled=cfg.precision == "fp16")
    history = {"loss": [], "lr": [], "grad_norm": [], "val": [], "tokens_per_s": [], "step_s": []}
    start = 1
    if cfg.resume and cfg.ckpt_path and Path(cfg.ckpt_path).exists():
        done, history, saved_cfg = load_checkpoint(cfg.ckpt_path, model, optimizer, batches, scaler)
        if {**saved_cfg, "resume": cfg.resume} != asdict(cfg):
            log("note: the checkpoint was written with a different config; the run will not be exact")
        start = done + 1
        log(f"resumed from {cfg.ckpt_path} after step {done}")
    tokens_per_step = cfg.batch_size * cfg.block_size
    step_flops = flops_per_token(model.cfg, cfg.block_size) * tokens_per_step
    busy, timed_steps = 0.0, 0  # training time since the last log line (evaluation excluded)
    bar = tqdm(range(start, cfg.steps + 1), initial=start - 1, total=cfg.steps, unit="step")
    for step in bar:
        t_step = time.perf_counter()
        lr = lr_at(step - 1, cfg.lr, cfg.warmup_steps, cfg.steps, cfg.min_lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = (t.to(cfg.device) for t in get_batch(train_data, cfg.batch_size, cfg.block_size, batches))
        with autocast(cfg):
            loss = next_token_loss(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
        grad_norm = clip_grad_norm(model.parameters(), cfg.grad_clip)
        scaler.step(optimizer)      # skips the update if a gradient overflowed to inf or nan
        scaler.update()             # after an overflow S halves; after 2000 clean steps it doubles
        history["loss"].append(loss.item())  # .item() waits for the GPU: the step is done
        history["step_s"].append(time.perf_counter() - t_step)
        busy, timed_steps = busy + history["step_s"][-1], timed_steps + 1
        history["lr"].append(lr)
        history["grad_norm"].append(grad_norm)
        if step % cfg.log_interval == 0 or step == cfg.steps:
            tokens_per_s = timed_steps * tokens_per_step / busy
            mfu = timed_steps * step_flops / busy / cfg.peak_flops if cfg.peak_flops else None
            history["tokens_per_s"].append((step, tokens_per_s))
            log(f"step {step:5d} | loss {loss.item():.4f} | lr {lr:.2e} | grad norm {grad_norm:.3f} | "
                f"{tokens_per_s:,.0f} tok/s" + (f" | MFU {mfu:.1%}" if mfu is not None else ""))
            bar.set_postfix(loss=f"{loss.item():.3f}", tok_s=f"{tokens_per_s:,.0f}")
            busy, timed_steps = 0.0, 0
        if step % cfg.eval_interval == 0 or step == cfg.steps:
            history["val"].append((step, evaluate(model, val_data, cfg)))
            log(f"step {step:5d} | val loss {history['val'][-1][1]:.4f}")
        if cfg.ckpt_path and (step % cfg.save_interval == 0 or step in (stop_at, cfg.steps)):
            save_checkpoint(cfg.ckpt_path, step, model, optimizer, batches, history, asdict(cfg), scaler)
        if step == stop_at:
            log(f"stopped after step {step} (checkpoint: {cfg.ckpt_path})")
            break
    bar.close()
    history["val_loss"] = evaluate(model, val_data, cfg)
    return model, history
