"""Four summations of bfloat16 values against the exact sum (float64 fsum), with bounds from the theory.

u = 2^-8 is bfloat16's unit roundoff (half its eps 2^-7). Bounds (Higham, Accuracy and Stability of
Numerical Algorithms, ch. 4): pairwise |E| <= gamma_ceil(log2 n) * sum|x|, a sequential float32 sum
|E| <= gamma_(n-1) * sum|x| with float32's u, where gamma_k = k u / (1 - k u).
"""
import math

import numpy as np
import pytest
import torch

from accumulate import kahan_sum, naive_sum, pairwise_sum, stall_value, ulp, wide_sum
from dlc_shared.testing import tolerance

U_BF16, U_FP32 = 2.0 ** -8, 2.0 ** -24


def gamma(k, u):
    return k * u / (1 - k * u)


def data(n, rows=8, seed=0, kind="uniform"):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(rows, n, generator=g) if kind == "uniform" else torch.randn(rows, n, generator=g)
    x = x.to(torch.bfloat16)
    x64 = x.double().numpy()
    return x, np.array([math.fsum(r) for r in x64]), np.abs(x64).sum(axis=1)


def error(result, exact):
    return np.abs(result.double().numpy() - exact)


@pytest.mark.parametrize("fn", [naive_sum, pairwise_sum, kahan_sum, wide_sum])
def test_small_integers_are_summed_exactly(fn):
    x = torch.randint(-8, 9, (5, 13), generator=torch.Generator().manual_seed(1)).to(torch.bfloat16)
    # every partial sum is an integer below 2^8 in magnitude, so representable: no rounding anywhere
    assert fn(x).double().tolist() == x.double().sum(-1).tolist()


@pytest.mark.parametrize("n", [1, 7, 100, 1000])
@pytest.mark.parametrize("kind", ["uniform", "normal"])
def test_pairwise_error_within_log2_n_roundings(n, kind):
    x, exact, l1 = data(n, kind=kind)
    assert np.all(error(pairwise_sum(x), exact) <= gamma(math.ceil(math.log2(max(n, 2))), U_BF16) * l1)


@pytest.mark.parametrize("n", [100, 2048])
@pytest.mark.parametrize("kind", ["uniform", "normal"])
def test_fp32_accumulation_within_its_bound(n, kind):
    x, exact, l1 = data(n, kind=kind)
    assert wide_sum(x).dtype == torch.float32
    assert np.all(error(wide_sum(x), exact) <= gamma(n - 1, U_FP32) * l1)


@pytest.mark.parametrize("kind", ["uniform", "normal"])
def test_kahan_error_is_a_few_eps_while_naive_is_not(kind):
    n = 2048
    x, exact, l1 = data(n, kind=kind)
    # Kahan: |E| <= (2u + O(n u^2)) sum|x| (Knuth; Higham eq. 4.8): about one rounding, so terms=1 in the rule
    bound = np.array([tolerance(torch.bfloat16, scale=s, terms=1) for s in l1])
    assert np.all(error(kahan_sum(x), exact) <= bound)
    if kind == "uniform":  # same-sign terms: the naive sum stalls far below the true value
        assert np.all(error(naive_sum(x), exact) > bound)


def test_orderings_on_same_sign_data():
    x, exact, l1 = data(4096)
    naive, pair, kahan = (error(f(x), exact).max() for f in (naive_sum, pairwise_sum, kahan_sum))
    wide = error(wide_sum(x), exact).max()
    assert naive > 10 * pair  # n roundings of a large sum vs log2 n roundings of small ones
    assert wide < U_BF16 * exact.min()  # the float32 sum is closer than any bfloat16 result can be


@pytest.mark.parametrize("dtype,man_bits", [(torch.bfloat16, 7), (torch.float16, 10)])
@pytest.mark.parametrize("term", [1.0, 2.0 ** -4, 2.0 ** 3])
def test_naive_sum_of_a_power_of_two_stalls_at_term_times_2_to_p(dtype, man_bits, term):
    stall = stall_value(term, man_bits)
    n = int(3 * stall / term)
    assert naive_sum(torch.full((1, n), term, dtype=dtype)).item() == stall
    assert stall == {torch.bfloat16: 256, torch.float16: 2048}[dtype] * term
    # the other sums are exact here (all partial sums are powers-of-two multiples that fit)
    assert pairwise_sum(torch.full((1, n), term, dtype=dtype)).item() == n * term


@pytest.mark.parametrize("term", [0.01, 0.3, 3.0])
def test_naive_sum_stalls_in_the_first_binade_where_half_an_ulp_reaches_the_term(term):
    t = torch.tensor(term).to(torch.bfloat16)
    s = naive_sum(t.repeat(1, 2000)).item()
    t = t.item()
    assert (torch.tensor(s, dtype=torch.bfloat16) + t).item() == s  # a fixed point: adding t changes nothing
    # in the binade below, half an ulp was < t so every add moved s; here it is >= t
    assert ulp(s, 7) / 4 < t <= ulp(s, 7) / 2


def test_stall_value_needs_a_power_of_two():
    with pytest.raises(ValueError):
        stall_value(0.3, 7)


def test_worked_answers_ten_thousand_ones():
    ones = torch.ones(1, 10000)
    assert naive_sum(ones.to(torch.bfloat16)).item() == 256
    assert naive_sum(ones.to(torch.float16)).item() == 2048
    assert kahan_sum(ones.to(torch.bfloat16)).item() == 9984  # 10000 is not a bfloat16; its nearest neighbour is
    assert torch.tensor(10000.0).to(torch.bfloat16).item() == 9984
