"""Softmax in low precision: exp overflows, and subtracting the row maximum fixes it for free.

softmax(x)_i = exp(x_i) / sum_j exp(x_j). exp overflows once x > ln(max): 11.09 in float16, 88.72 in
float32; then inf / inf = NaN. Very negative rows underflow instead: every exp is 0 and 0 / 0 = NaN.
softmax is unchanged by adding a constant to every logit, so computing exp(x_i - max_j x_j) gives the
same probabilities with every exponent <= 0 (no overflow) and one term exactly 1 (no 0 / 0).
"""
from __future__ import annotations

import math

import torch


def naive_softmax(x: torch.Tensor) -> torch.Tensor:
    """exp, sum and divide, all in x's dtype, along the last dimension."""
    e = torch.exp(x)
    return e / e.sum(dim=-1, keepdim=True)


def stable_softmax(x: torch.Tensor) -> torch.Tensor:
    """The same, after subtracting each row's maximum: exponents <= 0 and the largest term is exp(0) = 1."""
    e = torch.exp(x - x.amax(dim=-1, keepdim=True))
    return e / e.sum(dim=-1, keepdim=True)


def exp_overflow_threshold(dtype: torch.dtype) -> float:
    """The logit above which exp(x) is larger than the format's largest finite number: ln(finfo.max)."""
    return math.log(torch.finfo(dtype).max)
