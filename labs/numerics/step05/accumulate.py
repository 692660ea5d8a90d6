"""Summing many low-precision numbers: where the error comes from, and four ways to sum.

Every addition rounds its result to the accumulator's format, an error of up to half an ulp
of the running sum. A running sum s stops growing once each term is at most half an ulp of s:
1.0 added again and again to a bfloat16 sum stalls at 256 = 2^8. Pairwise summation keeps the
partial sums small (about log2 n roundings feed each result instead of n); Kahan's compensated
sum carries the lost low bits in a second variable; a wider accumulator (float32, what matrix
units use for bf16 inputs) makes every rounding 2^16 times smaller.

All functions sum over the last dimension. An add of two tensors of one dtype in PyTorch is
computed in float32 and rounded once to the dtype; for bf16 and fp16 that equals rounding the
exact sum, because float32 carries more than 2p + 2 bits (double rounding is then harmless).
"""
from __future__ import annotations

import math

import torch


def naive_sum(x: torch.Tensor) -> torch.Tensor:
    """Left to right, the running sum kept in x's dtype: s = round(s + x_i)."""
    s = torch.zeros(x.shape[:-1], dtype=x.dtype)
    for i in range(x.shape[-1]):
        s = s + x[..., i]
    return s


def pairwise_sum(x: torch.Tensor) -> torch.Tensor:
    """Add neighbours, then neighbours of the sums, ...: a tree of depth ceil(log2 n), every node rounded."""
    n = x.shape[-1]
    width = 1 << max(n - 1, 0).bit_length()
    x = torch.nn.functional.pad(x, (0, width - n))  # zeros add nothing and round nothing
    while x.shape[-1] > 1:
        x = x[..., 0::2] + x[..., 1::2]
    return x[..., 0]


def kahan_sum(x: torch.Tensor) -> torch.Tensor:
    """Compensated summation (Kahan 1965), every operation in x's dtype: c holds what s could not."""
    s = torch.zeros(x.shape[:-1], dtype=x.dtype)
    c = torch.zeros_like(s)
    for i in range(x.shape[-1]):
        y = x[..., i] - c
        t = s + y
        c = (t - s) - y  # (t - s) is the part of y that made it into t; minus y leaves the rounding error
        s = t
    return s


def wide_sum(x: torch.Tensor, acc_dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Left to right like naive_sum, but the running sum is kept in a wider format (returned in it)."""
    s = torch.zeros(x.shape[:-1], dtype=acc_dtype)
    for i in range(x.shape[-1]):
        s = s + x[..., i].to(acc_dtype)
    return s


METHODS = {"naive": naive_sum, "pairwise": pairwise_sum, "kahan": kahan_sum, "fp32 acc": wide_sum}


def ulp(value: float, man_bits: int) -> float:
    """The gap between `value` (> 0, normal) and the next larger number with `man_bits` mantissa bits."""
    return math.ldexp(1.0, math.frexp(value)[1] - 1 - man_bits)


def stall_value(term: float, man_bits: int) -> float:
    """Where a running sum of copies of a power-of-two `term` stops: ulp(s)/2 == term, a tie that rounds
    to the even s. That is s = term * 2^(man_bits + 1): 256 for 1.0 in bfloat16, 2048 in float16."""
    if math.frexp(term)[0] != 0.5:
        raise ValueError(f"{term} is not a power of two; the stall is then only bracketed, see the tests")
    return math.ldexp(term, man_bits + 1)
