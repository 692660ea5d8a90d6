"""A state-space model, discretized, and the selective scan that runs it token by token.

Continuous time: h'(t) = A h(t) + B x(t), y(t) = C h(t). Holding x fixed over a step
of length delta (zero-order hold) gives the exact recurrence h_t = Abar h_{t-1} + Bbar x_t
with Abar = exp(delta A) and, for a diagonal A, Bbar = (exp(delta A) - 1) / A * B.
Mamba keeps Abar and uses the first-order Bbar = delta B. Making delta, B and C
functions of the input (one value per token) is what Mamba calls selection: a large
delta forgets the past (Abar -> 0), a small one keeps it. The scan below is the
recurrence written as a loop; each channel d has its own N-number state.
"""
from __future__ import annotations

import torch


def discretize_zoh(A: torch.Tensor, delta: torch.Tensor, B: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact zero-order hold for a diagonal A (shape (..., N)): Abar = exp(delta A), Bbar = (Abar - 1) / A * B."""
    Abar = torch.exp(delta * A)
    return Abar, (Abar - 1) / A * B


def discretize_mamba(A: torch.Tensor, delta: torch.Tensor, B: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mamba's rule: the same Abar, and Bbar = delta B (zero-order hold to first order in delta)."""
    return torch.exp(delta * A), delta * B


def selective_scan(x, delta, A, B, C, D=None, h0=None):
    """y_t = C_t h_t + D x_t with h_t = exp(delta_t A) h_{t-1} + delta_t B_t x_t, one token at a time.

    x, delta: (batch, T, d) one input and one step size per channel; A: (d, N), negative;
    B, C: (batch, T, N) shared by the channels; D: (d,) a skip. Returns y (batch, T, d)
    and the last state h (batch, d, N): all a later call needs to continue the sequence.
    """
    batch, T, d = x.shape
    h = x.new_zeros(batch, d, A.shape[-1]) if h0 is None else h0
    ys = []
    for t in range(T):
        Abar, Bbar = discretize_mamba(A, delta[:, t, :, None], B[:, t, None, :])  # (batch, d, N) each
        h = Abar * h + Bbar * x[:, t, :, None]
        ys.append((h * C[:, t, None, :]).sum(-1))
    y = torch.stack(ys, dim=1)
    if D is not None:
        y = y + D * x
    return y, h


def lti_kernel(A: torch.Tensor, delta: torch.Tensor, B: torch.Tensor, C: torch.Tensor, length: int) -> torch.Tensor:
    """With delta, B, C fixed over time the SSM is a convolution: K_k = sum_n C_n Abar_n^k Bbar_n, shape (d, length).

    A: (d, N); delta: (d,); B, C: (N,). S4 computes the whole output this way; a selective SSM cannot.
    """
    Abar, Bbar = discretize_mamba(A, delta[:, None], B)
    powers = Abar[:, None, :] ** torch.arange(length, dtype=A.dtype)[None, :, None]  # (d, length, N)
    return (powers * Bbar[:, None, :] * C).sum(-1)
