"""FSDP2, torch's fully_shard: ZeRO-3 in production form.

fully_shard(block) turns each parameter of the block into a DTensor sharded along
its first dimension over the k ranks (torch.chunk: every rank gets ceil(dim0 / k)
rows, the last ones fewer). Before the block's forward it all-gathers the block's
weights, after it frees them, gathers again for backward, and reduce-scatters the
gradients: the gather and the free happen layer by layer, so the full weights of one
block at a time exist, not of the whole model. The optimizer sees the sharded
parameters, so AdamW's m and v are sharded too: this is ZeRO-3.

A MixedPrecisionPolicy(param_dtype=bf16) gathers bf16 copies for compute while the
sharded fp32 parameter is the master weight: no separate bf16 shard is kept.
"""
from __future__ import annotations

import torch
from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

from anatomy import optimizer_state_tensors, tensor_bytes
from data import shard
from dp import mean_over_ranks
from loss import next_token_loss
from train import TrainConfig, batch, make_model, make_optimizer


def shard_model(model: torch.nn.Module, mixed: bool) -> None:
    policy = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32) if mixed \
        else MixedPrecisionPolicy()
    for block in model.layers:  # one unit per block: its weights are gathered and freed together
        fully_shard(block, mp_policy=policy)
    fully_shard(model, mp_policy=policy)  # the root: the tied embedding / lm_head and the final norm


def train_fsdp(rank: int, world_size: int, cfg: TrainConfig, mixed: bool = False) -> dict:
    """Training with FSDP2: the losses, the first step's full gradient and the bytes this rank holds
    (local shards of weights, gradients and AdamW state) after the first step."""
    model = make_model(cfg)
    shard_model(model, mixed)
    optimizer = make_optimizer(model, cfg)
    losses, first_grads, held = [], None, None
    for step in range(cfg.steps):
        x, y = batch(step, cfg, model)
        x, y = shard(x, rank, world_size), shard(y, rank, world_size)
        loss = next_token_loss(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # the hooks reduce-scatter every block's gradients in here; .grad is the mean
        optimizer.step()
        losses.append(mean_over_ranks(loss.float(), world_size))
        if step == 0:
            params = list(model.parameters())
            first_grads = {n: p.grad.full_tensor() for n, p in model.named_parameters()}  # all-gathers
            held = {"params": tensor_bytes(p.to_local() for p in params),
                    "grads": tensor_bytes(p.grad.to_local() for p in params),
                    "optimizer": tensor_bytes(t.to_local() if hasattr(t, "to_local") else t
                                              for t in optimizer_state_tensors(optimizer))}
    return {"losses": losses, "grads": first_grads, "held": held,
            "local_shapes": {n: tuple(p.to_local().shape) for n, p in model.named_parameters()}}
