"""Mixed-precision training: compute in bfloat16, keep and update float32 master weights.

A bfloat16 weight in [1, 2) can only take steps of its ulp, 2^-7; an update smaller than half of
that (2^-8 = 0.0039) rounds away, so the weight never moves however many steps are taken. Keeping
a float32 master copy, updating it, and casting it to bfloat16 for every forward pass lets small
updates pile up until they move the bfloat16 copy. The model is a linear regression y ~ x @ w with
a mean-squared-error loss, small enough that its gradient is written by hand.
"""
from __future__ import annotations

import torch


def make_problem(n: int = 64, d: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """bfloat16 data x (n, d), targets y (n,), and starting weights w0 (d,) in [1, 2), away from the solution."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    w0 = 1.25 + 0.5 * torch.rand(d, generator=g, dtype=torch.float64)
    w_true = w0 + 0.2 * torch.randn(d, generator=g, dtype=torch.float64)
    y = x @ w_true
    return x.to(torch.bfloat16), y.to(torch.bfloat16), w0.to(torch.bfloat16)


def loss_and_grad(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """MSE loss and its gradient dL/dw = (2/n) x^T (x w - y), in the dtype of w, x and y.

    Like a matrix unit fed bfloat16: products and outputs are rounded to bfloat16, the sums inside
    accumulate in float32. Written out rather than by autograd or `@`: bfloat16 matrix-vector
    products on a CPU can cost a millisecond a call, a thousand times this model's arithmetic."""
    r = (x * w).sum(dim=-1) - y
    return (r * r).mean(), (x * r[:, None]).sum(dim=0) * (2.0 / x.shape[0])


def train_low_precision_only(w0, x, y, lr: float, steps: int) -> torch.Tensor:
    """Plain SGD with the weights themselves in bfloat16: w = round(w - lr * g)."""
    w = w0.clone()
    for _ in range(steps):
        _, g = loss_and_grad(w, x, y)
        w = w - lr * g
    return w


def train_master_weights(w0, x, y, lr: float, steps: int) -> torch.Tensor:
    """SGD on a float32 master copy; every step casts it to bfloat16 for the forward and backward pass."""
    master = w0.float()
    for _ in range(steps):
        _, g = loss_and_grad(master.to(x.dtype), x, y)
        master -= lr * g.float()
    return master


def train_reference(w0, x, y, lr: float, steps: int) -> torch.Tensor:
    """The same SGD in float64 (its gradient is checked against autograd in the tests)."""
    x, y, w = x.double(), y.double(), w0.double()
    for _ in range(steps):
        w = w - lr * (2.0 / x.shape[0]) * (x.T @ (x @ w - y))
    return w


def mse(w, x, y) -> float:
    """The loss of weights w, evaluated in float64 on the (bfloat16) data."""
    return ((x.double() @ w.double() - y.double()) ** 2).mean().item()
