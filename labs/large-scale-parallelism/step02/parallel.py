"""The reference model rebuilt for a grid: its weights split over TP, its batch split over DP."""
from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from grid import Grid
from groups import Groups
from model import Config, LanguageModel, RMSNorm, batch, causal_attention, rope
import tp as tp_ops
from tp import ColumnParallelLinear, CopyToTP, RowParallelLinear, VocabParallelCrossEntropy, VocabParallelEmbedding, shard
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


class ParallelAttention(nn.Module):
    """Heads split over TP: wq, wk, wv column-parallel (H/t query and Hkv/t kv heads here), wo row-parallel."""

    def __init__(self, full, name: str, tp, cfg: Config):
        super().__init__()
        self.cfg, self.tp = cfg, tp
        if cfg.n_kv_head % tp.size:
            raise ValueError(f"tp = {tp.size} does not divide n_kv_head = {cfg.n_kv_head}")
        self.wq = ColumnParallelLinear(full.wq, name + ".wq", tp)
        self.wk = ColumnParallelLinear(full.wk, name + ".wk", tp)
        self.wv = ColumnParallelLinear(full.wv, name + ".wv", tp)
        self.wo = RowParallelLinear(full.wo, name + ".wo", tp)

    def forward(self, x):
        B, T, _ = x.shape
        hd = self.cfg.head_dim
        x = CopyToTP.apply(x, self.tp.group)
        q = self.wq(x).view(B, T, -1, hd).transpose(1, 2)
        k = self.wk(x).view(B, T, -1, hd).transpose(1, 2)
        v = self.wv(x).view(B, T, -1, hd).transpose(1, 2)
        pos = torch.arange(T)
        q, k = rope(q, pos, self.cfg.rope_theta), rope(k, pos, self.cfg.rope_theta)
        y = causal_attention(q, k, v).transpose(1, 2).reshape(B, T, -1)
        return self.wo(y)


class ParallelMLP(nn.Module):
    """w1 and w3 column-parallel (ffn_dim/t features here), w2 row-parallel: one all-reduce per MLP."""

    def __init__(self, full, name: str, tp):
        super().__init__()
        self.tp = tp
        self.w1 = ColumnParallelLinear(full.w1, name + ".w1", tp)
        self.w2 = RowParallelLinear(full.w2, name + ".w2", tp)
        self.w3 = ColumnParallelLinear(full.w3, name + ".w3", tp)

    def forward(self, x):
        x = CopyToTP.apply(x, self.tp.group)
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class ParallelBlock(nn.Module):
    def __init__(self, full, name: str, tp, cfg: Config):
        super().__init__()
        self.attention_norm = ParallelRMSNorm(full.attention_norm, name + ".attention_norm")
        self.attention = ParallelAttention(full.attention, name + ".attention", tp, cfg)
        self.ffn_norm = ParallelRMSNorm(full.ffn_norm, name + ".ffn_norm")
        self.feed_forward = ParallelMLP(full.feed_forward, name + ".feed_forward", tp)

    def forward(self, x):
        x = x + self.attention(self.attention_norm(x))
        return x + self.feed_forward(self.ffn_norm(x))


class ParallelLM(nn.Module):
    def __init__(self, full: LanguageModel, groups: Groups):
        super().__init__()
        self.cfg, self.groups = full.cfg, groups
        tp = self.tp = groups.axis("tp")
        self.token_embedding = VocabParallelEmbedding(full.token_embedding, "token_embedding", tp)
        self.layers = nn.ModuleList(ParallelBlock(b, f"layers.{i}", tp, full.cfg) for i, b in enumerate(full.layers))
        self.norm = ParallelRMSNorm(full.norm, "norm")
        self.lm_head = ColumnParallelLinear(full.lm_head, "lm_head", tp)

    def forward(self, idx, targets, n_tokens: int):
        """This rank's share of the global mean loss: sum of its tokens' losses / all tokens of the step."""
        x = self.token_embedding(idx)
        for layer in self.layers:
            x = layer(x)
        logits = self.lm_head(CopyToTP.apply(self.norm(x), self.tp.group))                   # (B, T, V/t): this rank's vocabulary slice
        losses = VocabParallelCrossEntropy.apply(logits.flatten(0, 1), targets.flatten(), self.tp)
        return losses.sum() / n_tokens

    def sync_grads(self):
        """Data parallelism: every dp rank holds the same weights; sum the gradients of their batch shares."""
        dp = self.groups.axis("dp_cp")
        if dp.size > 1:
            for p in self.parameters():
                tp_ops.all_reduce(p.grad, dp.group, tag="dp")


def parallel_run(rank: int, world: int, grid: Grid, cfg: Config, batch_size: int, steps: int, lr: float):
    """What one rank sees over `steps` SGD steps: the global losses and its gradient pieces."""
    groups = Groups(grid, rank)
    model = ParallelLM(LanguageModel(cfg, seed=0), groups)
    idx, targets = batch(cfg, batch_size)
    dp = groups.axis("dp")
    idx, targets = idx.chunk(dp.size)[dp.index], targets.chunk(dp.size)[dp.index]
    losses, grads, comm = [], [], []
    for _ in range(steps):
        tp_ops.COMM.clear()
        loss = model(idx, targets, batch_size * cfg.block_size)
        loss.backward()
        model.sync_grads()
        total = loss.detach().clone()
        dist.all_reduce(total, group=groups.group["dp"])
        losses.append(total.item())
        grads.append(local_grads(model))
        comm.append(list(tp_ops.COMM))
        sgd_step(model.parameters(), lr)
    return {"losses": losses, "grads": grads, "comm": comm}
