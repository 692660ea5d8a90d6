"""The same training with torch's DistributedDataParallel: what buckets.py does, in production form.

DDP(model) broadcasts rank 0's weights at construction, registers its own hooks on
every parameter and all-reduces the gradients in buckets during backward, already
divided by k: after backward, .grad holds the mean over the ranks. Differences from
ours: the bucket work runs in C++ (the Reducer), and the first iteration goes out as
a single bucket while DDP watches the order the gradients really arrive in; from the
second iteration on, the buckets are rebuilt in that order.
"""
from __future__ import annotations

import torch
from torch.nn.parallel import DistributedDataParallel

from data import shard
from dp import mean_over_ranks
from loss import next_token_loss
from train import TrainConfig, batch, make_model, make_optimizer


def train_ddp(rank: int, world_size: int, cfg: TrainConfig, bucket_bytes: int, comm_hook=None) -> dict:
    """Like train_dp, with DDP doing the gradient all-reduce; comm_hook(state, bucket) replaces DDP's own."""
    model = make_model(cfg)
    ddp = DistributedDataParallel(model, bucket_cap_mb=bucket_bytes / 2**20)
    if comm_hook:
        ddp.register_comm_hook(None, comm_hook)
    optimizer = make_optimizer(model, cfg)
    losses, first_grads = [], None
    for step in range(cfg.steps):
        x, y = batch(step, cfg, model)
        x, y = shard(x, rank, world_size), shard(y, rank, world_size)
        loss = next_token_loss(ddp(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # DDP's hooks all-reduce the buckets in here; .grad is the mean afterwards
        optimizer.step()
        losses.append(mean_over_ranks(loss, world_size))
        if step == 0:
            first_grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    return {"losses": losses, "grads": first_grads,
            "params": {n: p.detach().clone() for n, p in model.named_parameters()}}
