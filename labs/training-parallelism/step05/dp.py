"""Naive data parallelism: every rank holds the whole model, runs its slice of the global batch,
and after backward all-reduces every gradient, then takes the same optimizer step.

The loss is a mean over the batch, so the global gradient is the mean of the k
ranks' gradients (equal slices): all-reduce sums, and dividing by k makes the mean.
Every rank then holds the same gradient, takes the same AdamW step from the same
weights, and the replicas stay identical, step after step.
"""
from __future__ import annotations

import torch
import torch.distributed as dist

from buckets import BucketedAllReduce
from data import shard
from loss import next_token_loss
from train import TrainConfig, batch, make_model, make_optimizer


def all_reduce_grads(model: torch.nn.Module, world_size: int) -> None:
    """After backward: every gradient becomes the mean over the ranks, one all-reduce per tensor."""
    for p in model.parameters():
        dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
        p.grad.div_(world_size)


def mean_over_ranks(value: torch.Tensor, world_size: int) -> float:
    """The global batch's loss: the mean of the ranks' slice losses (equal slices)."""
    value = value.detach().clone()
    dist.all_reduce(value)
    return value.item() / world_size


def train_dp(rank: int, world_size: int, cfg: TrainConfig, sync_grads=all_reduce_grads,
             bucket_bytes: int | None = None) -> dict:
    """Data-parallel training on one rank: the losses of the global batch, the gradients of the
    first step and the final weights. With bucket_bytes, the gradients travel in buckets during backward."""
    model = make_model(cfg)
    for p in model.parameters():  # the replicas must start equal; the seed already does it, this makes sure
        dist.broadcast(p.data, src=0)
    optimizer = make_optimizer(model, cfg)
    overlap = BucketedAllReduce(model, world_size, bucket_bytes) if bucket_bytes else None
    losses, first_grads = [], None
    for step in range(cfg.steps):
        x, y = batch(step, cfg, model)
        x, y = shard(x, rank, world_size), shard(y, rank, world_size)
        loss = next_token_loss(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # with buckets: their all-reduces start in here, from the hooks
        if overlap:
            overlap.wait()
        else:
            sync_grads(model, world_size)
        optimizer.step()
        losses.append(mean_over_ranks(loss, world_size))
        if step == 0:
            first_grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    return {"losses": losses, "grads": first_grads,
            "params": {n: p.detach().clone() for n, p in model.named_parameters()},
            "buckets": overlap.buckets if overlap else None, "launch_order": overlap.launch_order if overlap else None,
            "grads_left": overlap.grads_left if overlap else None}
