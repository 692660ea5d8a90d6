"""A multilayer perceptron written as what it is: a chain of matmuls.

Layer i computes h_i = act(h_{i-1} @ W_i + b_i) with W_i of shape (in_i, out_i).
For a batch of B rows that is one (B x in_i) @ (in_i x out_i) matmul, 2*B*in_i*out_i
FLOPs; the bias add and the ReLU cost B*out_i each, small next to the matmul, so the
forward pass costs sum_i 2*B*in_i*out_i FLOPs.
"""
from __future__ import annotations

import torch


def init_mlp(sizes: list[int], *, seed: int = 0, dtype=torch.float32) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """[(W_1, b_1), ...] for layer widths `sizes` = [in, hidden..., out], seeded and scaled so
    activations keep a similar size through the layers (std 1/sqrt(in))."""
    if len(sizes) < 2 or any(s <= 0 for s in sizes):
        raise ValueError(f"sizes needs at least two positive widths, got {sizes}")
    gen = torch.Generator().manual_seed(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = torch.randn(n_in, n_out, generator=gen, dtype=torch.float64) / n_in ** 0.5
        b = 0.1 * torch.randn(n_out, generator=gen, dtype=torch.float64)
        params.append((w.to(dtype).requires_grad_(), b.to(dtype).requires_grad_()))
    return params


def mlp_forward(x: torch.Tensor, params) -> torch.Tensor:
    """ReLU between layers, none after the last: the output is a plain linear read-out."""
    h = x
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = torch.relu(h)
    return h


def layer_flops(batch: int, sizes: list[int]) -> list[int]:
    """Matmul FLOPs of each layer's forward: 2 * B * in * out."""
    return [2 * batch * n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def forward_flops(batch: int, sizes: list[int]) -> int:
    return sum(layer_flops(batch, sizes))
