"""One process, the whole global batch: the training run every parallel scheme must reproduce.

The setup every later step shares: a seeded tiny model, torch's AdamW, and the
global batch of each step from data.py.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from data import global_batch
from loss import next_token_loss
from model import Llama, ModelConfig


@dataclass
class TrainConfig:
    steps: int = 5
    batch_size: int = 8        # the global batch: sequences per optimizer step, all ranks together
    block_size: int = 32
    lr: float = 1e-2
    weight_decay: float = 0.1
    seed: int = 0


def make_model(cfg: TrainConfig) -> Llama:
    torch.manual_seed(cfg.seed)  # every rank builds the same initial weights from the same seed
    return Llama(ModelConfig(block_size=cfg.block_size))


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    return torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.95), weight_decay=cfg.weight_decay)


def batch(step: int, cfg: TrainConfig, model: Llama) -> tuple[torch.Tensor, torch.Tensor]:
    return global_batch(step, cfg.batch_size, cfg.block_size, model.cfg.vocab_size, cfg.seed)


def train_single(cfg: TrainConfig) -> list[float]:
    """The loss of every step, one process: forward, backward, optimizer step."""
    model = make_model(cfg)
    optimizer = make_optimizer(model, cfg)
    losses = []
    for step in range(cfg.steps):
        x, y = batch(step, cfg, model)
        loss = next_token_loss(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
