"""The parallel scan: the same recurrence in ceil(log2 T) whole-sequence steps instead of T token steps.

h_t = a_t h_{t-1} + b_t composes: applying (a1, b1) then (a2, b2) is the single step
(a1 a2, a2 b1 + b2). That combine is associative, so the prefix of every t can be
built like a sum, in any grouping. Hillis and Steele's scan does it in rounds: in
round r every position combines with the one 2^r before it, all positions at once.
After ceil(log2 T) rounds each position holds the composition of its whole prefix,
whose b part is h_t (from h_{-1} = 0). It does T log T combines instead of T, but
each round is one vectorized operation over the sequence: depth log T, not T.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ssm import discretize_mamba


def combine(left: tuple[torch.Tensor, torch.Tensor], right: tuple[torch.Tensor, torch.Tensor]):
    """(a1, b1) then (a2, b2): h -> a2 (a1 h + b1) + b2 = (a1 a2) h + (a2 b1 + b2)."""
    (a1, b1), (a2, b2) = left, right
    return a1 * a2, a2 * b1 + b2


def shift(t: torch.Tensor, offset: int, fill: float, dim: int) -> torch.Tensor:
    """t moved `offset` places later along dim; the first `offset` places get `fill` (the identity's part)."""
    t = t.movedim(dim, -1)
    t = F.pad(t[..., :t.shape[-1] - offset], (offset, 0), value=fill)
    return t.movedim(-1, dim)


def hillis_steele_scan(a: torch.Tensor, b: torch.Tensor, dim: int = 1) -> tuple[torch.Tensor, int]:
    """All h_t of h_t = a_t h_{t-1} + b_t (h_{-1} = 0) along `dim`, and the number of rounds it took."""
    T, offset, rounds = a.shape[dim], 1, 0
    while offset < T:
        # position t takes the prefix ending at t - offset, held at that position after the last round;
        # (1, 0) is the identity step for the positions with nothing that far back
        a, b = combine((shift(a, offset, 1.0, dim), shift(b, offset, 0.0, dim)), (a, b))
        offset, rounds = 2 * offset, rounds + 1
    assert rounds == math.ceil(math.log2(T)) if T > 1 else rounds == 0
    return b, rounds


def selective_scan_parallel(x, delta, A, B, C, D=None, h0=None):
    """ssm.selective_scan's result from one parallel scan over the whole sequence.

    It materializes every h_t: (batch, T, d, N) numbers where the loop kept one (batch, d, N).
    """
    Abar, Bbar = discretize_mamba(A, delta[..., None], B[:, :, None, :])  # (batch, T, d, N)
    bx = Bbar * x[..., None]
    if h0 is not None:  # a state carried in enters as part of the first input: b_0 += a_0 h0
        bx = torch.cat([bx[:, :1] + Abar[:, :1] * h0[:, None], bx[:, 1:]], dim=1)
    h, _ = hillis_steele_scan(Abar, bx, dim=1)
    y = (h * C[:, :, None, :]).sum(-1)
    if D is not None:
        y = y + D * x
    return y, h[:, -1]
