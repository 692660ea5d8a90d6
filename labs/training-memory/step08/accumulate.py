"""Gradient accumulation: the gradient of a big batch, computed one micro-batch at a time.

The loss is a mean over the batch, so its gradient is the mean of per-example
gradients. Split B sequences into micro-batches of b, scale each micro-batch's mean
loss by b / B, and let backward add into .grad: the sum is the big batch's gradient.
Only one micro-batch's activations are alive at a time (activation memory ~ b, not B);
the FLOPs are the same, done in B / b smaller, less efficient pieces.
"""
from __future__ import annotations

import torch

from block import Config, lm_loss


def accumulate_grads(idx: torch.Tensor, targets: torch.Tensor, params: dict, cfg: Config,
                     micro_batch: int) -> torch.Tensor:
    """Backward over `idx` in micro-batches; gradients add up in each parameter's .grad.
    Returns the big batch's loss (detached)."""
    if micro_batch <= 0:
        raise ValueError(f"micro_batch must be positive, got {micro_batch}")
    batch = idx.shape[0]
    total = 0.0
    for i, t in zip(idx.split(micro_batch), targets.split(micro_batch)):
        # a data loader hands each micro-batch over as its own tensor; clone to do the same
        i, t = i.clone(), t.clone()
        loss = lm_loss(i, t, params, cfg) * (i.shape[0] / batch)  # every sequence has T tokens
        loss.backward()
        total = total + loss.detach()
    return total
