"""A Mamba language model: embedding, n Mamba blocks, a final norm and a tied head.

A Mamba block is pre-norm with a residual, x + mixer(norm(x)). The mixer widens
the input to d_inner = expand * d_model twice: one branch goes through a short
causal depthwise conv (each channel sees its last d_conv inputs), SiLU, and the
selective SSM, whose delta, B and C are projected from that same branch; the other
branch is a gate, SiLU(z), multiplied in at the end. A projection narrows back to
d_model. Names follow Hugging Face's MambaForCausalLM so its weights load as they are.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from scan import selective_scan_parallel
from ssm import selective_scan


@dataclass(frozen=True)
class MambaConfig:
    vocab_size: int = 256
    d_model: int = 32
    n_layers: int = 2
    d_state: int = 8
    expand: int = 2
    d_conv: int = 4
    dt_rank: int | None = None  # default ceil(d_model / 16), as in Mamba
    eps: float = 1e-5
    tie_embeddings: bool = True  # Mamba's checkpoints tie the head to the embedding

    @property
    def d_inner(self) -> int:
        return self.expand * self.d_model

    @property
    def rank(self) -> int:
        return self.dt_rank or math.ceil(self.d_model / 16)

    @classmethod
    def from_hf(cls, c) -> "MambaConfig":
        return cls(c.vocab_size, c.hidden_size, c.num_hidden_layers, c.state_size, c.expand, c.conv_kernel,
                   int(c.time_step_rank), c.layer_norm_epsilon, c.tie_word_embeddings)


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(d)), eps

    def forward(self, x):
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


class MambaMixer(nn.Module):
    def __init__(self, cfg: MambaConfig):
        super().__init__()
        self.cfg = cfg
        di, N = cfg.d_inner, cfg.d_state
        self.in_proj = nn.Linear(cfg.d_model, 2 * di, bias=False)
        self.conv1d = nn.Conv1d(di, di, cfg.d_conv, groups=di, padding=cfg.d_conv - 1)  # depthwise
        self.x_proj = nn.Linear(di, cfg.rank + 2 * N, bias=False)  # delta (low rank), B, C from the input
        self.dt_proj = nn.Linear(cfg.rank, di)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, N + 1, dtype=torch.float32)).repeat(di, 1))
        self.D = nn.Parameter(torch.ones(di))
        self.out_proj = nn.Linear(di, cfg.d_model, bias=False)

    def ssm_inputs(self, u: torch.Tensor):
        """delta (batch, T, d_inner), B and C (batch, T, N): all three chosen by the input, token by token."""
        dt, B, C = self.x_proj(u).split([self.cfg.rank, self.cfg.d_state, self.cfg.d_state], dim=-1)
        return F.softplus(self.dt_proj(dt)), B, C  # softplus keeps every step size positive

    def forward(self, x: torch.Tensor, parallel: bool = True) -> torch.Tensor:
        T = x.shape[1]
        u, z = self.in_proj(x).chunk(2, dim=-1)
        u = self.conv1d(u.transpose(1, 2))[..., :T].transpose(1, 2)  # left padding only: causal
        u = F.silu(u)
        delta, B, C = self.ssm_inputs(u)
        A = -torch.exp(self.A_log)  # negative: every channel decays
        scan = selective_scan_parallel if parallel else selective_scan
        y, _ = scan(u, delta, A, B, C, self.D)
        return self.out_proj(y * F.silu(z))


class MambaBlock(nn.Module):
    def __init__(self, cfg: MambaConfig):
        super().__init__()
        self.norm, self.mixer = RMSNorm(cfg.d_model, cfg.eps), MambaMixer(cfg)

    def forward(self, x, parallel: bool = True):
        return x + self.mixer(self.norm(x), parallel)


class MambaLM(nn.Module):
    def __init__(self, cfg: MambaConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.layers = nn.ModuleList(MambaBlock(cfg) for _ in range(cfg.n_layers))
        self.norm_f = RMSNorm(cfg.d_model, cfg.eps)
        self.lm_head = None if cfg.tie_embeddings else nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)

    def forward(self, ids: torch.Tensor, parallel: bool = True) -> torch.Tensor:
        x = self.embed(ids)
        for layer in self.layers:
            x = layer(x, parallel)
        x = self.norm_f(x)
        return x @ self.embed.weight.T if self.lm_head is None else self.lm_head(x)  # tied: the embedding, transposed

    def load_hf_state_dict(self, sd: dict) -> None:
        """MambaForCausalLM's names: backbone.embeddings -> embed, backbone.* -> *; lm_head only when untied."""
        ours = {k.removeprefix("backbone.").replace("embeddings.", "embed."): v
                for k, v in sd.items() if k != "lm_head.weight" or self.lm_head is not None}
        self.load_state_dict(ours, strict=True)


@torch.no_grad()
def greedy_full(model: MambaLM, prompt: torch.Tensor, new_tokens: int) -> torch.Tensor:
    """Greedy generation by running the whole sequence again for every token (no state kept: the slow way)."""
    ids = prompt
    for _ in range(new_tokens):
        ids = torch.cat([ids, model(ids)[:, -1:].argmax(-1)], dim=1)
    return ids
