"""Mixture of Experts: a router picks top-k expert FFNs per token; dispatch, run each expert, combine.

With a capacity limit an expert takes at most C = ceil(capacity_factor · N · k / E)
of the N·k assignments; the rest are dropped: that token gets nothing from that
expert, and only the residual connection carries it past this layer.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from config import Config
from ffn import make_ffn
from shapetrace import record, scope, traced_linear


class MoE(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.router = nn.Linear(cfg.dim, cfg.n_experts, bias=False)  # one score per expert
        self.experts = nn.ModuleList(make_ffn(cfg) for _ in range(cfg.n_experts))
        self.aux_loss: torch.Tensor | None = None  # load-balancing loss of the last forward
        self.stats: dict = {}  # capacity, routed and kept assignments per expert, of the last forward

    def capacity(self, n_tokens: int) -> int:
        if not self.cfg.capacity_factor:  # 0: no limit, every assignment is kept
            return n_tokens
        return math.ceil(self.cfg.capacity_factor * n_tokens * self.cfg.top_k / self.cfg.n_experts)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        E, k = self.cfg.n_experts, self.cfg.top_k
        tokens = x.reshape(B * T, D)  # (N, D): routing does not care where a token sits
        N = tokens.shape[0]

        # Route: a softmax over experts, keep the k best, renormalize their weights (as Mixtral does).
        logits = traced_linear("router_logits = x W_r", self.router, tokens)
        probs = torch.softmax(logits.to(torch.promote_types(logits.dtype, torch.float32)), dim=-1)
        record("router_probs = softmax(logits)", probs)
        top_p, top_i = probs.topk(k, dim=-1)
        record("top_k expert ids", top_i)
        weights = record("top_k weights (sum to 1)", (top_p / top_p.sum(-1, keepdim=True)).to(x.dtype))
        assert probs.shape == (N, E) and top_i.shape == weights.shape == (N, k)

        # Capacity: first choices take slots before second choices; within a rank, earlier tokens first.
        C = self.capacity(N)
        order = top_i.T.reshape(-1)  # (k·N,): all first choices, then all second choices, ...
        queue_pos = F.one_hot(order, E).cumsum(0)[torch.arange(k * N), order] - 1  # place in its expert's queue
        keep = record("kept assignments", (queue_pos < C).view(k, N).T)  # (N, k) bool

        # Dispatch each expert's tokens, run the expert on them, combine with the router weights.
        out = torch.zeros_like(tokens)
        for e, expert in enumerate(self.experts):
            token_idx, rank = torch.where((top_i == e) & keep)
            with scope(f"expert{e}"):
                x_e = record("x_e = x[routed to e]", tokens[token_idx])  # (n_e, D), n_e <= C
                y_e = expert(x_e)
            out.index_add_(0, token_idx, y_e * weights[token_idx, rank, None])
        y = record("y = Σ_k w·expert(x)", out.view(B, T, D))

        # Load balancing (Switch Transformer): E · Σ_e f_e · P_e, with f_e the share of assignments
        # routed to e and P_e its mean router probability; 1.0 when both are uniform.
        routed = torch.bincount(top_i.flatten(), minlength=E)
        f = routed.to(probs.dtype) / (N * k)
        self.aux_loss = record("aux_loss = E·Σ f·P", E * (f * probs.mean(0)).sum())
        self.stats = {"capacity": C, "routed": routed.tolist(),
                      "kept": torch.bincount(top_i[keep], minlength=E).tolist()}
        return y
