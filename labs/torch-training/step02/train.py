"""The training loop: sample a batch, compute the next-token loss, step the optimizer."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from data import eval_batches, get_batch, load_split
from loss import next_token_loss
from model import Llama, ModelConfig


@dataclass
class TrainConfig:
    steps: int = 300
    batch_size: int = 16
    block_size: int = 64
    vocab_size: int = 2048
    lr: float = 0.05
    seed: int = 0
    log_interval: int = 25
    eval_batches: int = 8      # fixed val windows: eval_batches * batch_size * block_size tokens


@torch.no_grad()
def evaluate(model: Llama, data: torch.Tensor, cfg: TrainConfig) -> float:
    """Mean next-token loss over the same fixed windows of `data` every call."""
    model.eval()
    losses = [next_token_loss(model(x), y).item()
              for x, y in eval_batches(data, cfg.batch_size, cfg.block_size, cfg.eval_batches)]
    model.train()
    return sum(losses) / len(losses)


def train(cfg: TrainConfig, model_cfg: ModelConfig | None = None, log=print) -> tuple[Llama, dict]:
    torch.manual_seed(cfg.seed)  # the model's initial weights
    model_cfg = model_cfg or ModelConfig(vocab_size=cfg.vocab_size, block_size=cfg.block_size)
    train_data, val_data = load_split("train", cfg.vocab_size), load_split("val", cfg.vocab_size)
    model = Llama(model_cfg)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9)
    batches = torch.Generator().manual_seed(cfg.seed)  # its own RNG: the batch order is reproducible
    history = {"loss": []}
    for step in range(1, cfg.steps + 1):
        x, y = get_batch(train_data, cfg.batch_size, cfg.block_size, batches)
        loss = next_token_loss(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        history["loss"].append(loss.item())
        if step % cfg.log_interval == 0 or step == cfg.steps:
            log(f"step {step:5d} | loss {loss.item():.4f}")
    history["val_loss"] = evaluate(model, val_data, cfg)
    return model, history
