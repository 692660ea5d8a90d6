"""Recurrence vs attention: what one request must keep between decode steps.

Causal attention lets each new token look at the keys and values of every earlier
token, so decoding keeps them all: the KV cache grows by 2 * n_layers * n_heads *
head_dim numbers per token. A linear recurrence folds the past into a state of
fixed size, h_t = a * h_{t-1} + b x_t and y_t = sum_n c h_t: n_layers * d_model *
d_state numbers whatever the length. Both layers below take any number of new
tokens and a per-request cache or state, so prefill (many tokens) and decode (one)
run through the same code.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Shape:
    d_model: int = 32
    n_layers: int = 2
    n_heads: int = 2      # attention
    d_state: int = 8      # recurrence: numbers of state per channel

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads


def kv_cache_bytes(s: Shape, length: int, elt: int = 4) -> int:
    """Keys and values of `length` tokens in every layer: grows with the length."""
    return 2 * s.n_layers * s.n_heads * s.head_dim * length * elt


def recurrent_state_bytes(s: Shape, elt: int = 4) -> int:
    """One state h of d_model x d_state numbers per layer: the same at every length."""
    return s.n_layers * s.d_model * s.d_state * elt


class KVCache:
    """One request's keys and values, per layer; each call appends the new tokens'."""

    def __init__(self, n_layers: int):
        self.keys: list[torch.Tensor | None] = [None] * n_layers
        self.values: list[torch.Tensor | None] = [None] * n_layers

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.keys[layer] is not None:
            k, v = torch.cat([self.keys[layer], k], dim=-2), torch.cat([self.values[layer], v], dim=-2)
        self.keys[layer], self.values[layer] = k, v
        return k, v

    def nbytes(self) -> int:
        return sum(t.nbytes for t in self.keys + self.values if t is not None)


class RecurrentState:
    """One request's state h, per layer: (batch, d_model, d_state) each, allocated once."""

    def __init__(self, s: Shape, batch: int = 1, dtype=torch.float32):
        self.h = [torch.zeros(batch, s.d_model, s.d_state, dtype=dtype) for _ in range(s.n_layers)]
        self.length = 0

    def nbytes(self) -> int:
        return sum(t.nbytes for t in self.h)


class AttentionLayer(nn.Module):
    """Causal multi-head attention that reads and extends a KV cache."""

    def __init__(self, s: Shape, layer: int):
        super().__init__()
        self.s, self.layer = s, layer
        self.qkv = nn.Linear(s.d_model, 3 * s.d_model, bias=False)
        self.out = nn.Linear(s.d_model, s.d_model, bias=False)

    def forward(self, x: torch.Tensor, cache: KVCache) -> torch.Tensor:
        b, t, _ = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.s.n_heads, self.s.head_dim).permute(2, 0, 3, 1, 4)
        k, v = cache.append(self.layer, k, v)  # (b, heads, past + t, head_dim): every token so far
        past = k.shape[-2] - t
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.s.head_dim)
        # new token i sits at position past + i and sees positions 0 .. past + i
        visible = torch.arange(past + t)[None, :] <= (past + torch.arange(t))[:, None]
        scores = scores.masked_fill(~visible, float("-inf"))
        y = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, -1)
        return self.out(y)


class RecurrentLayer(nn.Module):
    """A diagonal linear recurrence per channel: h_t = a * h_{t-1} + b x_t, y_t = sum_n c h_t."""

    def __init__(self, s: Shape, layer: int):
        super().__init__()
        self.s, self.layer = s, layer
        self.inp = nn.Linear(s.d_model, s.d_model, bias=False)
        self.a_logit = nn.Parameter(torch.randn(s.d_model, s.d_state))  # a = sigmoid(.) in (0, 1): a decay
        self.b = nn.Parameter(torch.randn(s.d_model, s.d_state))
        self.c = nn.Parameter(torch.randn(s.d_model, s.d_state) / math.sqrt(s.d_state))
        self.out = nn.Linear(s.d_model, s.d_model, bias=False)

    def forward(self, x: torch.Tensor, state: RecurrentState) -> torch.Tensor:
        u = self.inp(x)
        a = torch.sigmoid(self.a_logit)
        h = state.h[self.layer]
        ys = []
        for t in range(x.shape[1]):  # one token at a time: the state is all that is carried
            h = a * h + self.b * u[:, t, :, None]
            ys.append((h * self.c).sum(-1))
        state.h[self.layer] = h
        return self.out(torch.stack(ys, dim=1))


class Model(nn.Module):
    """n_layers of one kind, with residuals; `cache` is a KVCache or a RecurrentState."""

    def __init__(self, s: Shape, kind: str):
        super().__init__()
        if kind not in ("attention", "recurrence"):
            raise ValueError(f"kind must be 'attention' or 'recurrence', got {kind!r}")
        self.s, self.kind = s, kind
        layer = AttentionLayer if kind == "attention" else RecurrentLayer
        self.layers = nn.ModuleList(layer(s, i) for i in range(s.n_layers))

    def new_cache(self, batch: int = 1):
        return KVCache(self.s.n_layers) if self.kind == "attention" else RecurrentState(self.s, batch)

    def forward(self, x: torch.Tensor, cache=None) -> torch.Tensor:
        cache = self.new_cache(x.shape[0]) if cache is None else cache
        for layer in self.layers:
            x = x + layer(x, cache)
        if isinstance(cache, RecurrentState):
            cache.length += x.shape[1]
        return x


@torch.no_grad()
def held_bytes(model: Model, x: torch.Tensor, length: int) -> int:
    """Bytes the request holds once it has seen `length` tokens: a prefill of length - 1, then one decode step."""
    cache = model.new_cache(x.shape[0])
    if length > 1:
        model(x[:, :length - 1], cache)
    model(x[:, length - 1:length], cache)
    return cache.nbytes()


def decode_reads(s: Shape, kind: str, context: int) -> int:
    """Cache or state numbers one decode step reads (the weights aside): O(context) vs O(1)."""
    if kind == "attention":
        return 2 * s.n_layers * s.n_heads * s.head_dim * context
    return s.n_layers * s.d_model * s.d_state

