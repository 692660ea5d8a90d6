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


def mlp_forward(x: torch.Tensor, params, cache: list | None = None) -> torch.Tensor:
    """ReLU between layers, none after the last: the output is a plain linear read-out.

    With a `cache` list, each layer appends what the hand-written backward needs:
    its input (for dW = input^T @ dz) and its pre-activation z (for the ReLU mask).
    """
    h = x
    for i, (w, b) in enumerate(params):
        z = h @ w + b
        if cache is not None:
            cache.append((h, z))
        h = torch.relu(z) if i < len(params) - 1 else z
    return h


def mlp_backward(grad_out: torch.Tensor, params, cache: list) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The chain rule, layer by layer from the output back: [(dW_1, db_1), ...].

    For z = h @ W + b:  dW = h^T @ dz,  db = sum of dz over rows,  dh = dz @ W^T.
    Two matmuls per layer, each as big as the forward one; the first layer skips dh
    because nobody needs the gradient of the input data.
    """
    grads = []
    dz = grad_out
    for i in reversed(range(len(params))):
        w, _ = params[i]
        h, z = cache[i]
        if i < len(params) - 1:
            dz = dz * (z > 0)  # ReLU passes the gradient only where it was active
        grads.append((h.T @ dz, dz.sum(0)))
        if i > 0:
            dz = dz @ w.T
    return grads[::-1]


def mse_loss_grad(out: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """loss = mean((out - target)^2) and its gradient 2 * (out - target) / numel."""
    diff = out - target
    return (diff ** 2).mean(), 2 * diff / diff.numel()


def layer_flops(batch: int, sizes: list[int]) -> list[int]:
    """Matmul FLOPs of each layer's forward: 2 * B * in * out."""
    return [2 * batch * n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def forward_flops(batch: int, sizes: list[int]) -> int:
    return sum(layer_flops(batch, sizes))


def backward_flops(batch: int, sizes: list[int]) -> int:
    """dW and dh each cost one forward matmul; layer 1 has no dh: 2 * forward - layer 1."""
    per_layer = layer_flops(batch, sizes)
    return 2 * sum(per_layer) - per_layer[0]
