"""One training step of the lab's model (forward, backward, AdamW) on a batch of random tokens.

Profiling needs the work of a step, not meaningful text, so the batch is seeded random token ids.
"""
from __future__ import annotations

import torch


def make_batch(vocab_size: int, batch_size: int, seq_len: int, seed: int = 0):
    """x: (batch_size, seq_len) random token ids; y: x shifted by one (the next-token targets)."""
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(vocab_size, (batch_size, seq_len + 1), generator=gen)
    return ids[:, :-1], ids[:, 1:]


def make_optimizer(model) -> torch.optim.Optimizer:
    # foreach=True updates each group of parameters with a few multi-tensor ops instead of one op per tensor.
    return torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0, foreach=True)


def train_step(model, opt, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Forward, backward and one optimizer update; returns the loss (a tensor: no sync with .item())."""
    _, loss = model(x, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.detach()
