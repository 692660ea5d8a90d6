"""The reference model rebuilt for a grid: its weights split over TP, its batch split over DP."""
from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from grid import Grid
from groups import Groups
from model import Config, LanguageModel, RMSNorm, batch, causal_attention, dropout_mask, rope
import tp as tp_ops
from tp import ColumnParallelLinear, CopyToTP, GatherFromSP, RowParallelLinear, VocabParallelCrossEntropy, VocabParallelEmbedding, shard
from train import local_grads, sgd_step


def replicated(full: torch.Tensor, name: str) -> nn.Parameter:
    return shard(full, name, None)


class ParallelRMSNorm(nn.Module):
    def __init__(self, full: RMSNorm, name: str):
        super().__init__()
        self.eps = full.eps
        self.weight = replicated(full.weight, name + ".weight")

    def forward(self, x):
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


def enter_tp(x, tp, sp: bool):
    """Into a TP region: the full sequence on every rank (all-gather with SP, a copy without)."""
    return GatherFromSP.apply(x, tp) if sp else CopyToTP.apply(x, tp.group)


class ShardedDropout(nn.Module):
    """The reference's SeededDropout on this rank's tokens: draw the global batch's mask, keep our slice
    of the batch (dp) and of T (sp).

    Production code draws each shard's mask from its own random stream instead (cheaper, but not
    equal to a one-process run); slicing one mask lets the test compare exactly.
    """

    def __init__(self, full, tp, sp: bool, dp):
        super().__init__()
        self.p, self.site, self.calls, self.tp, self.sp, self.dp = full.p, full.site, 0, tp, sp, dp

    def forward(self, x):
        if self.p == 0.0:
            return x
        self.calls += 1
        B, T, D = x.shape
        full_t = T * self.tp.size if self.sp else T
        mask = dropout_mask((B * self.dp.size, full_t, D), self.p, 1000 * self.site + self.calls)
        mask = mask.chunk(self.dp.size, dim=0)[self.dp.index]
        return x * (mask.chunk(self.tp.size, dim=1)[self.tp.index] if self.sp else mask)


class ParallelAttention(nn.Module):
    """Heads split over TP: wq, wk, wv column-parallel (H/t query and Hkv/t kv heads here), wo row-parallel."""

    def __init__(self, full, name: str, tp, cfg: Config, sp: bool = False):
        super().__init__()
        self.cfg, self.tp, self.sp = cfg, tp, sp
        if cfg.n_kv_head % tp.size:
            raise ValueError(f"tp = {tp.size} does not divide n_kv_head = {cfg.n_kv_head}")
        self.wq = ColumnParallelLinear(full.wq, name + ".wq", tp)
        self.wk = ColumnParallelLinear(full.wk, name + ".wk", tp)
        self.wv = ColumnParallelLinear(full.wv, name + ".wv", tp)
        self.wo = RowParallelLinear(full.wo, name + ".wo", tp, sp)

    def forward(self, x):
        x = enter_tp(x, self.tp, self.sp)
        B, T, _ = x.shape
        hd = self.cfg.head_dim
        q = self.wq(x).view(B, T, -1, hd).transpose(1, 2)
        k = self.wk(x).view(B, T, -1, hd).transpose(1, 2)
        v = self.wv(x).view(B, T, -1, hd).transpose(1, 2)
        pos = torch.arange(T)
        q, k = rope(q, pos, self.cfg.rope_theta), rope(k, pos, self.cfg.rope_theta)
        y = causal_attention(q, k, v).transpose(1, 2).reshape(B, T, -1)
        return self.wo(y)


class ParallelMLP(nn.Module):
    """w1 and w3 column-parallel (ffn_dim/t features here), w2 row-parallel: one all-reduce per MLP."""

    def __init__(self, full, name: str, tp, sp: bool = False):
        super().__init__()
        self.tp, self.sp = tp, sp
        self.w1 = ColumnParallelLinear(full.w1, name + ".w1", tp)
        self.w2 = RowParallelLinear(full.w2, name + ".w2", tp, sp)
        self.w3 = ColumnParallelLinear(full.w3, name + ".w3", tp)

    def forward(self, x):
        x = enter_tp(x, self.tp, self.sp)
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class ParallelBlock(nn.Module):
    """With sp, x is (B, T/t, D): the norms, dropouts and residual adds work on this rank's positions only."""

    def __init__(self, full, name: str, tp, cfg: Config, sp: bool = False, dp=None):
        super().__init__()
        self.attention_norm = ParallelRMSNorm(full.attention_norm, name + ".attention_norm")
        self.attention = ParallelAttention(full.attention, name + ".attention", tp, cfg, sp)
        self.attention_dropout = ShardedDropout(full.attention_dropout, tp, sp, dp)
        self.ffn_norm = ParallelRMSNorm(full.ffn_norm, name + ".ffn_norm")
        self.feed_forward = ParallelMLP(full.feed_forward, name + ".feed_forward", tp, sp)
        self.ffn_dropout = ShardedDropout(full.ffn_dropout, tp, sp, dp)

    def forward(self, x):
        x = x + self.attention_dropout(self.attention(self.attention_norm(x)))
        return x + self.ffn_dropout(self.feed_forward(self.ffn_norm(x)))


class ParallelLM(nn.Module):
    def __init__(self, full: LanguageModel, groups: Groups, sequence_parallel: bool = False):
        super().__init__()
        self.cfg, self.groups, self.sp = full.cfg, groups, sequence_parallel
        tp = self.tp = groups.axis("tp")
        sp = sequence_parallel and tp.size > 1
        self.token_embedding = VocabParallelEmbedding(full.token_embedding, "token_embedding", tp, sp)
        self.layers = nn.ModuleList(ParallelBlock(b, f"layers.{i}", tp, full.cfg, sp, groups.axis("dp"))
                                    for i, b in enumerate(full.layers))
        self.norm = ParallelRMSNorm(full.norm, "norm")
        self.lm_head = ColumnParallelLinear(full.lm_head, "lm_head", tp)

    def forward(self, idx, targets, n_tokens: int):
        """This rank's share of the global mean loss: sum of its tokens' losses / all tokens of the step."""
        x = self.token_embedding(idx)
        for layer in self.layers:
            x = layer(x)
        logits = self.lm_head(enter_tp(self.norm(x), self.tp, self.sp and self.tp.size > 1))                   # (B, T, V/t): this rank's vocabulary slice
        losses = VocabParallelCrossEntropy.apply(logits.flatten(0, 1), targets.flatten(), self.tp)
        return losses.sum() / n_tokens

    def sync_grads(self):
        """Data parallelism: every dp rank holds the same weights; sum the gradients of their batch shares.

        With SP each TP rank also saw only T/t positions of the norms: their weights' gradients are
        partial sums over positions, so they are all-reduced over TP too.
        """
        if self.sp and self.tp.size > 1:
            for p in self.parameters():
                if p.spec is None:
                    tp_ops.all_reduce(p.grad, self.tp.group)
        dp = self.groups.axis("dp_cp")
        if dp.size > 1:
            for p in self.parameters():
                tp_ops.all_reduce(p.grad, dp.group, tag="dp")


def saved_activation_bytes(fn) -> tuple:
    """Run fn() and add up the bytes of the tensors autograd keeps for the backward pass (each storage once)."""
    seen = {}

    def pack(t):
        seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return out, sum(seen.values())


def parallel_run(rank: int, world: int, grid: Grid, cfg: Config, batch_size: int, steps: int, lr: float,
                 sequence_parallel: bool = False):
    """What one rank sees over `steps` SGD steps: the global losses and its gradient pieces."""
    groups = Groups(grid, rank)
    model = ParallelLM(LanguageModel(cfg, seed=0), groups, sequence_parallel)
    idx, targets = batch(cfg, batch_size)
    dp = groups.axis("dp")
    idx, targets = idx.chunk(dp.size)[dp.index], targets.chunk(dp.size)[dp.index]
    # With SP too, every TP rank gets all T token ids: the vocab-parallel lookup gives partial rows
    # for every position, and its reduce-scatter leaves each rank the sums for its T/t positions.
    losses, grads, comm, saved = [], [], [], []
    for _ in range(steps):
        tp_ops.COMM.clear()
        loss, nbytes = saved_activation_bytes(lambda: model(idx, targets, batch_size * cfg.block_size))
        saved.append(nbytes)
        loss.backward()
        model.sync_grads()
        total = loss.detach().clone()
        dist.all_reduce(total, group=groups.group["dp"])
        losses.append(total.item())
        grads.append(local_grads(model))
        comm.append(list(tp_ops.COMM))
        sgd_step(model.parameters(), lr)
    return {"losses": losses, "grads": grads, "comm": comm, "saved_bytes": saved}
