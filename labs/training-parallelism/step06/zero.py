"""ZeRO stages 1, 2 and 3 written by hand, in mixed precision.

Mixed-precision Adam keeps, per parameter, 16 bytes of model state: bf16 weights (2)
and gradients (2) for forward and backward, and the fp32 master weight, Adam's m and
v (4 + 4 + 4) for the update. Plain data parallelism repeats all 16 on every rank.
ZeRO cuts the flat vector of all Psi parameters into k equal shards (padded to S =
ceil(Psi / k) each) and keeps on rank r only shard r of

    stage 1: the fp32 master, m, v             -> 4 Psi + 12 Psi/k bytes per rank
    stage 2: ... and the gradients             -> 2 Psi + 14 Psi/k
    stage 3: ... and the bf16 weights          ->         16 Psi/k

(Rajbhandari et al. 2020). Each rank updates only its shard; the collectives move
the rest: stage 1 all-reduces the gradients and all-gathers the new weights, stage 2
reduce-scatters the gradients instead, stage 3 also all-gathers the weights before
each forward and frees them after backward. Here a whole model is one unit: the full
weights and gradients exist for one forward/backward (real ZeRO-3 gathers layer by
layer, real ZeRO-2 reduce-scatters bucket by bucket during backward).
"""
from __future__ import annotations

import math

import torch
import torch.distributed as dist

from anatomy import tensor_bytes
from data import shard
from dp import mean_over_ranks
from loss import next_token_loss
from train import TrainConfig, batch, make_model


def shard_size(numel: int, world_size: int) -> int:
    """Elements per rank: the flat vector is padded with zeros to world_size * shard_size."""
    return math.ceil(numel / world_size)


def zero_bytes(numel: int, world_size: int, stage: int) -> int:
    """Model-state bytes per rank in mixed precision, padding included (S = ceil(Psi / k)):
    with k dividing Psi, 4 Psi + 12 Psi/k, 2 Psi + 14 Psi/k and 16 Psi/k."""
    S = shard_size(numel, world_size)
    padded = S * world_size
    weights = 2 * padded if stage < 3 else 2 * S
    grads = 2 * padded if stage < 2 else 2 * S
    return weights + grads + 12 * S


class Zero:
    def __init__(self, model: torch.nn.Module, stage: int, rank: int, world_size: int, cfg: TrainConfig,
                 dtype: torch.dtype = torch.bfloat16):
        if stage not in (1, 2, 3):
            raise ValueError(f"ZeRO stage must be 1, 2 or 3, got {stage}")
        self.model, self.stage, self.rank, self.k, self.cfg, self.dtype = model, stage, rank, world_size, cfg, dtype
        self.params = list(model.parameters())
        self.shapes = [p.shape for p in self.params]  # kept: stage 3 empties the parameters between steps
        self.numel = sum(p.numel() for p in self.params)
        self.S = shard_size(self.numel, world_size)
        full = torch.zeros(self.S * world_size)  # fp32, padded
        full[:self.numel] = torch.cat([p.detach().flatten() for p in self.params])
        mine = slice(rank * self.S, (rank + 1) * self.S)
        self.master = full[mine].clone()        # fp32 master weights: this rank's shard only
        self.exp_avg = torch.zeros(self.S)      # Adam m
        self.exp_avg_sq = torch.zeros(self.S)   # Adam v
        self.t = 0
        self.param_shard = self.master.to(dtype) if stage == 3 else None
        self.grad_shard = None
        self.flat_param = full.to(dtype) if stage < 3 else None  # the replicated weights (stages 1, 2)
        self.flat_grad = None
        if stage < 3:
            self._point_params_at(self.flat_param)
        else:
            self._free_params()

    def _point_params_at(self, flat: torch.Tensor) -> None:
        """Make every parameter a view into the flat buffer (so one collective fills them all)."""
        offset = 0
        for p, shape in zip(self.params, self.shapes):
            p.data = flat[offset:offset + shape.numel()].view(shape)
            offset += shape.numel()

    def _free_params(self) -> None:
        for p in self.params:
            p.data = torch.empty(0, dtype=self.dtype)

    def gather_params(self) -> None:
        """Stage 3, before forward: every rank's weight shard, all-gathered into the full weights."""
        if self.stage == 3:
            self.flat_param = torch.empty(self.S * self.k, dtype=self.dtype)
            dist.all_gather_single(self.flat_param, self.param_shard)
            self._point_params_at(self.flat_param)

    def zero_grad(self) -> None:
        """A flat gradient buffer with every .grad a view into it: backward accumulates in place."""
        if self.flat_grad is None:
            self.flat_grad = torch.zeros(self.S * self.k, dtype=self.dtype)
        self.flat_grad.zero_()
        offset = 0
        for p in self.params:
            p.grad = self.flat_grad[offset:offset + p.numel()].view(p.shape)
            offset += p.numel()

    def reduce_grads(self) -> None:
        """After backward: this rank's shard of the mean gradient, in self.grad_shard."""
        mine = slice(self.rank * self.S, (self.rank + 1) * self.S)
        if self.stage == 1:  # every rank keeps the whole summed gradient, uses its slice
            dist.all_reduce(self.flat_grad)
            self.grad_shard = self.flat_grad[mine]
        else:  # stages 2, 3: each rank receives only its slice of the sum, the full gradient is dropped
            self.grad_shard = torch.empty(self.S, dtype=self.dtype)
            dist.reduce_scatter_single(self.grad_shard, self.flat_grad)
            for p in self.params:
                p.grad = None
            self.flat_grad = None
        if self.stage == 3:  # backward is done: the full weights go too
            self._free_params()
            self.flat_param = None

    def step(self) -> None:
        """AdamW on this rank's fp32 shard (torch.optim.AdamW's formulas), then the new bf16 weights."""
        cfg, (b1, b2), eps = self.cfg, (0.9, 0.95), 1e-8
        g = self.grad_shard.float() / self.k  # the sum over ranks -> the mean
        self.t += 1
        self.master.mul_(1 - cfg.lr * cfg.weight_decay)
        self.exp_avg.lerp_(g, 1 - b1)
        self.exp_avg_sq.mul_(b2).addcmul_(g, g, value=1 - b2)
        denom = (self.exp_avg_sq.sqrt() / math.sqrt(1 - b2 ** self.t)).add_(eps)
        self.master.addcdiv_(self.exp_avg, denom, value=-cfg.lr / (1 - b1 ** self.t))
        if self.stage == 3:
            self.param_shard = self.master.to(self.dtype)
        else:  # stages 1, 2: every rank's new shard, all-gathered into the replicated weights
            dist.all_gather_single(self.flat_param, self.master.to(self.dtype))

    def held_bytes(self) -> int:
        """Bytes of model state this rank holds right now, counted from the tensors (each storage once)."""
        return tensor_bytes([*(p.data for p in self.params), *(p.grad for p in self.params), self.param_shard,
                             self.grad_shard, self.master, self.exp_avg, self.exp_avg_sq])


def train_zero(rank: int, world_size: int, cfg: TrainConfig, stage: int, dtype=torch.bfloat16,
               zero_class=Zero) -> dict:
    """Data-parallel training with ZeRO: the losses, the first step's gradient shard, the bytes held
    after the gradient reduction (the peak of model state), and the final fp32 master shard."""
    model = make_model(cfg)
    zero = zero_class(model, stage, rank, world_size, cfg, dtype)
    losses, first_grad, held = [], None, []
    for step in range(cfg.steps):
        x, y = batch(step, cfg, model)
        x, y = shard(x, rank, world_size), shard(y, rank, world_size)
        zero.gather_params()
        loss = next_token_loss(model(x), y)
        zero.zero_grad()
        loss.backward()
        zero.reduce_grads()
        held.append(zero.held_bytes())
        if step == 0:
            first_grad = zero.grad_shard.float() / world_size
        zero.step()
        losses.append(mean_over_ranks(loss.float(), world_size))
    return {"losses": losses, "grad_shard": first_grad, "held_bytes": held, "master": zero.master.clone(),
            "numel": zero.numel, "shard": zero.S}
