"""Expert parallelism: the experts split over the ranks of the data-parallel group, tokens moved by all-to-all.

Each rank routes its own tokens, packs them into a (n_expert, capacity, D) buffer (empty slots are 0),
and one all_to_all_single sends expert e's rows to the rank that holds e. The experts run on what
arrived from every rank, and a second all-to-all brings the outputs home, where they are weighted
and added. gloo has no all_to_all of a list of tensors, but it runs all_to_all_single.
"""
from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn as nn

import tp as tp_ops
from model import MLP, capacity, route
from tp import shard


def all_to_all(x, ep):
    out = torch.empty_like(x)
    tp_ops.COMM.append(("ep", "all_to_all", x.numel() * x.element_size()))
    dist.all_to_all_single(out, x.contiguous(), group=ep.group)
    return out


class AllToAll(torch.autograd.Function):
    """Block j of x goes to rank j; equal blocks, so the backward is the same exchange of the gradients."""

    @staticmethod
    def forward(ctx, x, ep):
        ctx.ep = ep
        return all_to_all(x, ep)

    @staticmethod
    def backward(ctx, grad):
        return all_to_all(grad, ctx.ep), None


class ParallelMoE(nn.Module):
    def __init__(self, full, name: str, ep):
        super().__init__()
        cfg = self.cfg = full.cfg
        if cfg.n_expert % ep.size:
            raise ValueError(f"the expert-parallel size {ep.size} does not divide n_expert = {cfg.n_expert}")
        self.ep, self.local = ep, cfg.n_expert // ep.size
        self.router = shard(full.router.weight, name + ".router.weight", None)
        self.experts = nn.ModuleList()
        for j in range(self.local):
            e = ep.index * self.local + j
            mlp = MLP.__new__(MLP)
            nn.Module.__init__(mlp)
            for w in ("w1", "w2", "w3"):
                lin = nn.Linear(1, 1, bias=False)
                lin.weight = shard(getattr(full.experts[e], w).weight, f"{name}.experts.{e}.{w}.weight", None)
                lin.weight.expert = True      # its gradient is complete here: not averaged over data parallelism
                setattr(mlp, w, lin)
            self.experts.append(mlp)
        self.dropped = []

    def forward(self, x):
        B, T, D = x.shape
        cfg, ep = self.cfg, self.ep
        xt = x.reshape(-1, D)                            # this rank's tokens are one routing group
        cap = capacity(xt.shape[0], cfg)
        expert, slot, weight, kept = route(xt @ self.router.t(), cfg.top_k, cfg.n_expert, cap)
        token = torch.arange(xt.shape[0]).repeat_interleave(cfg.top_k)
        self.dropped.append(int((~kept).sum()))
        where = expert[kept] * cap + slot[kept]          # row of the (E * cap) send buffer
        send = torch.zeros(cfg.n_expert * cap, D).index_copy(0, where, xt[token[kept]])
        recv = AllToAll.apply(send, ep).view(ep.size, self.local, cap, D)   # from every rank, for my experts
        done = torch.stack([self.experts[j](recv[:, j].reshape(-1, D)).view(ep.size, cap, D)
                            for j in range(self.local)], dim=1)               # (ep, local, cap, D)
        back = AllToAll.apply(done.reshape(-1, D), ep)   # row e * cap + slot: expert e's output for our token
        y = back[where] * weight[kept, None]
        return torch.zeros_like(xt).index_add(0, token[kept], y).view(B, T, D)
