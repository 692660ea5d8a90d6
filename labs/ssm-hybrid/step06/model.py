"""A Mamba language model: embedding, n Mamba blocks, a final norm and a tied head.

A Mamba block is pre-norm with a residual, x + mixer(norm(x)). The mixer widens
the input to d_inner = expand * d_model twice: one branch goes through a short
causal depthwise conv (each channel sees its last d_conv inputs), SiLU, and the
selective SSM, whose delta, B and C are projected from that same branch; the other
branch is a gate, SiLU(z), multiplied in at the end. A projection narrows back to
d_model. Names follow Hugging Face's MambaForCausalLM so its weights load as they are.

Decoding keeps, per request and layer, the conv's window (its last d_conv inputs) and
the SSM state h (d_inner x d_state): a fixed size, whatever the length. A decode step
is one step of the same scan, started from h.
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
    inner_norms: bool = False  # RMSNorm on delta, B and C before use (Jamba's Mamba layers)

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


class LayerState:
    """What one Mamba layer keeps for a batch of requests: the conv window and the SSM state."""

    def __init__(self, cfg: MambaConfig, batch: int, dtype=torch.float32):
        self.conv = torch.zeros(batch, cfg.d_inner, cfg.d_conv, dtype=dtype)  # the last d_conv conv inputs
        self.ssm = torch.zeros(batch, cfg.d_inner, cfg.d_state, dtype=dtype)  # h


class MambaState:
    """A request's (or a batch's) decoding state: one LayerState per layer, allocated once."""

    def __init__(self, cfg: MambaConfig, batch: int = 1, dtype=torch.float32):
        self.layers = [LayerState(cfg, batch, dtype) for _ in range(cfg.n_layers)]
        self.seen = 0  # tokens consumed so far

    def nbytes(self) -> int:
        return sum(s.conv.nbytes + s.ssm.nbytes for s in self.layers)


def state_bytes(cfg: MambaConfig, batch: int = 1, elt: int = 4) -> int:
    """n_layers * d_inner * (d_conv + d_state) numbers per request: no length anywhere."""
    return cfg.n_layers * cfg.d_inner * (cfg.d_conv + cfg.d_state) * elt * batch


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
        if cfg.inner_norms:
            self.dt_layernorm = RMSNorm(cfg.rank, cfg.eps)
            self.b_layernorm, self.c_layernorm = RMSNorm(N, cfg.eps), RMSNorm(N, cfg.eps)

    def ssm_inputs(self, u: torch.Tensor):
        """delta (batch, T, d_inner), B and C (batch, T, N): all three chosen by the input, token by token."""
        dt, B, C = self.x_proj(u).split([self.cfg.rank, self.cfg.d_state, self.cfg.d_state], dim=-1)
        if self.cfg.inner_norms:
            dt, B, C = self.dt_layernorm(dt), self.b_layernorm(B), self.c_layernorm(C)
        return F.softplus(self.dt_proj(dt)), B, C  # softplus keeps every step size positive

    def forward(self, x: torch.Tensor, parallel: bool = True, state: LayerState | None = None) -> torch.Tensor:
        T = x.shape[1]
        if state is not None and T == 1:
            return self.step(x, state)
        u, z = self.in_proj(x).chunk(2, dim=-1)
        if state is not None:  # a prefill from an empty state keeps the window of its last d_conv inputs
            state.conv = F.pad(u.transpose(1, 2), (max(self.cfg.d_conv - T, 0), 0))[..., -self.cfg.d_conv:]
        u = self.conv1d(u.transpose(1, 2))[..., :T].transpose(1, 2)  # left padding only: causal
        u = F.silu(u)
        delta, B, C = self.ssm_inputs(u)
        A = -torch.exp(self.A_log)  # negative: every channel decays
        scan = selective_scan_parallel if parallel else selective_scan
        y, h = scan(u, delta, A, B, C, self.D)
        if state is not None:
            state.ssm = h
        return self.out_proj(y * F.silu(z))

    def step(self, x: torch.Tensor, state: LayerState) -> torch.Tensor:
        """One new token per request: slide the conv window by one, run one step of the scan from h."""
        u, z = self.in_proj(x[:, 0]).chunk(2, dim=-1)  # (batch, d_inner)
        state.conv = torch.cat([state.conv[..., 1:], u[..., None]], dim=-1)
        u = F.silu((state.conv * self.conv1d.weight[:, 0]).sum(-1) + self.conv1d.bias)
        delta, B, C = self.ssm_inputs(u)
        y, state.ssm = selective_scan(u[:, None], delta[:, None], -torch.exp(self.A_log), B[:, None], C[:, None],
                                      self.D, h0=state.ssm)
        return self.out_proj(y * F.silu(z[:, None]))


class MambaBlock(nn.Module):
    def __init__(self, cfg: MambaConfig):
        super().__init__()
        self.norm, self.mixer = RMSNorm(cfg.d_model, cfg.eps), MambaMixer(cfg)

    def forward(self, x, parallel: bool = True, state: LayerState | None = None):
        return x + self.mixer(self.norm(x), parallel, state)


class MambaLM(nn.Module):
    def __init__(self, cfg: MambaConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.layers = nn.ModuleList(MambaBlock(cfg) for _ in range(cfg.n_layers))
        self.norm_f = RMSNorm(cfg.d_model, cfg.eps)
        self.lm_head = None if cfg.tie_embeddings else nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)

    def forward(self, ids: torch.Tensor, parallel: bool = True, state: MambaState | None = None) -> torch.Tensor:
        """Logits for `ids`. With a state: a prefill (several tokens, state empty) or decode steps (one token)."""
        if state is not None and ids.shape[1] > 1 and state.seen:
            raise ValueError("a prefill starts from an empty state; feed later tokens one at a time")
        x = self.embed(ids)
        for i, layer in enumerate(self.layers):
            x = layer(x, parallel, None if state is None else state.layers[i])
        if state is not None:
            state.seen += ids.shape[1]
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


@torch.no_grad()
def generate(model: MambaLM, prompt: torch.Tensor, new_tokens: int) -> tuple[torch.Tensor, MambaState]:
    """Greedy generation the recurrent way: one prefill, then one token per step from a fixed-size state."""
    state = MambaState(model.cfg, prompt.shape[0])
    logits = model(prompt, state=state)
    ids = [prompt]
    for _ in range(new_tokens):
        ids.append(logits[:, -1:].argmax(-1))
        logits = model(ids[-1], state=state)
    return torch.cat(ids, dim=1), state
