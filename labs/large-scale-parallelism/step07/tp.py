"""Tensor parallelism: column- and row-parallel linear layers, a vocab-parallel embedding and cross-entropy.

Each collective is an autograd Function, so the backward pass sends what the chain rule needs:
copy_to_tp is the identity forward and an all-reduce backward; reduce_from_tp the reverse.
Every call is logged in COMM (kind, bytes of the tensor) so a run can print bytes per collective.
"""
from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from train import shard_of

COMM: list[tuple[str, str, int]] = []   # (group, collective, bytes of the tensor it works on), in call order


def all_reduce(x, group, op=dist.ReduceOp.SUM, tag: str = "tp"):
    COMM.append((tag, "all_reduce", x.numel() * x.element_size()))
    dist.all_reduce(x, op=op, group=group)
    return x


class CopyToTP(torch.autograd.Function):
    """Forward: x goes to every TP rank as it is. Backward: each rank has a partial dL/dx; sum them."""

    @staticmethod
    def forward(ctx, x, group):
        ctx.group = group
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return all_reduce(grad.contiguous().clone(), ctx.group), None


def all_gather_seq(x, group, size: int):
    """Concatenate the ranks' (B, T/t, ...) pieces into (B, T, ...)."""
    parts = [torch.empty_like(x) for _ in range(size)]
    COMM.append(("tp", "all_gather", x.numel() * x.element_size() * size))
    dist.all_gather(parts, x.contiguous(), group=group)
    return torch.cat(parts, dim=1)


def reduce_scatter_seq(x, group, size: int):
    """Sum the ranks' (B, T, ...) tensors and give rank i the sum's piece i along T: (B, T/t, ...).

    gloo in torch 2.13 runs dist.reduce_scatter (the list form) on CPU tensors, so it is used as is.
    """
    parts = [c.contiguous() for c in x.chunk(size, dim=1)]
    out = torch.empty_like(parts[0])
    COMM.append(("tp", "reduce_scatter", x.numel() * x.element_size()))
    dist.reduce_scatter(out, parts, group=group)
    return out


class GatherFromSP(torch.autograd.Function):
    """Sequence parallelism, entering a TP region: all-gather the sequence forward, reduce-scatter backward."""

    @staticmethod
    def forward(ctx, x, tp):
        ctx.tp = tp
        return all_gather_seq(x, tp.group, tp.size)

    @staticmethod
    def backward(ctx, grad):
        return reduce_scatter_seq(grad, ctx.tp.group, ctx.tp.size), None


class ScatterToSP(torch.autograd.Function):
    """Sequence parallelism, leaving a TP region: reduce-scatter forward (the sum, split by sequence), all-gather backward."""

    @staticmethod
    def forward(ctx, x, tp):
        ctx.tp = tp
        return reduce_scatter_seq(x, tp.group, tp.size)

    @staticmethod
    def backward(ctx, grad):
        return all_gather_seq(grad, ctx.tp.group, ctx.tp.size), None


class ReduceFromTP(torch.autograd.Function):
    """Forward: sum the partial outputs of the TP ranks. Backward: dL/dy is the same on every rank: pass it."""

    @staticmethod
    def forward(ctx, x, group):
        return all_reduce(x.contiguous().clone(), group)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def shard(full: torch.Tensor, name: str, spec) -> nn.Parameter:
    """A parameter holding this rank's piece of `full`; it remembers which piece (for the checks)."""
    p = nn.Parameter(shard_of(full.detach(), spec).clone())
    p.full_name, p.spec = name, spec
    return p


class ColumnParallelLinear(nn.Module):
    """y = x W^T with W's output rows split over TP: each rank computes its slice of y's features.

    Its input must come through CopyToTP: once per sublayer (q, k and v share one), as Megatron
    fuses them into one linear_qkv and one fc1, so the backward pays one all-reduce, not three.
    """

    def __init__(self, full: nn.Linear, name: str, tp):
        super().__init__()
        self.tp = tp
        self.weight = shard(full.weight, name + ".weight", (0, tp.size, tp.index))

    def forward(self, x):
        return F.linear(x, self.weight)


class RowParallelLinear(nn.Module):
    """y = x W^T with W's input columns split over TP: each rank has a partial sum of y; all-reduce adds them.

    With sequence parallelism the sum is reduce-scattered instead: each rank keeps T/t positions of it.
    """

    def __init__(self, full: nn.Linear, name: str, tp, sequence_parallel: bool = False):
        super().__init__()
        self.tp, self.sp = tp, sequence_parallel
        self.weight = shard(full.weight, name + ".weight", (1, tp.size, tp.index))

    def forward(self, x):
        if self.sp:
            return ScatterToSP.apply(F.linear(x, self.weight), self.tp)
        return ReduceFromTP.apply(F.linear(x, self.weight), self.tp.group)


class VocabParallelEmbedding(nn.Module):
    """Rows [start, end) of the table on each rank; a token outside gives 0, the all-reduce fills it in."""

    def __init__(self, full: nn.Embedding, name: str, tp, sequence_parallel: bool = False):
        super().__init__()
        self.tp, self.sp = tp, sequence_parallel
        self.weight = shard(full.weight, name + ".weight", (0, tp.size, tp.index))
        self.start = tp.index * self.weight.shape[0]

    def forward(self, idx):
        local = idx - self.start
        outside = (local < 0) | (local >= self.weight.shape[0])
        x = F.embedding(local.masked_fill(outside, 0), self.weight).masked_fill(outside[..., None], 0.0)
        if self.sp:
            return ScatterToSP.apply(x, self.tp)
        return ReduceFromTP.apply(x, self.tp.group)


class VocabParallelCrossEntropy(torch.autograd.Function):
    """Cross-entropy of logits split along the vocabulary, never gathering them.

    loss = log sum_v exp(z_v - m) - (z_target - m), with the max m, the sum and z_target each
    one all-reduce of N numbers (N tokens) instead of an all-gather of N * V logits.
    """

    @staticmethod
    def forward(ctx, logits, targets, tp):
        m = all_reduce(logits.max(dim=-1).values, tp.group, dist.ReduceOp.MAX)
        z = logits - m[:, None]
        e = z.exp()
        s = all_reduce(e.sum(dim=-1), tp.group)
        local = targets - tp.index * logits.shape[-1]
        inside = (local >= 0) & (local < logits.shape[-1])
        zt = torch.where(inside, z.gather(1, local.clamp(0, logits.shape[-1] - 1)[:, None])[:, 0], 0.0)
        zt = all_reduce(zt, tp.group)
        ctx.save_for_backward(e / s[:, None], local, inside)
        return s.log() - zt

    @staticmethod
    def backward(ctx, grad):
        p, local, inside = ctx.saved_tensors
        g = p.clone()                      # d loss / d z_v = softmax_v - [v == target]
        rows = inside.nonzero()[:, 0]
        g[rows, local[rows]] -= 1.0
        return g * grad[:, None], None, None
