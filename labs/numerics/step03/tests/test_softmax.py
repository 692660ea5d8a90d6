"""Softmax in float16/bfloat16/float32 against float64 torch.softmax of the same (rounded) logits."""
import math

import pytest
import torch

from dlc_shared.testing import assert_close
from softmax import exp_overflow_threshold, naive_softmax, stable_softmax

DTYPES = [torch.float16, torch.bfloat16, torch.float32]
N = 64


def logits(top, dtype, rows=6, seed=0):
    base = torch.randn(rows, N, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 2
    return (base - base.amax(dim=-1, keepdim=True) + top).to(dtype)


def reference(x):
    return torch.softmax(x.double(), dim=-1)  # float64: no overflow for these logits after its own max shift


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("top", [0.0, 5.0, 12.0, 100.0, -120.0])
def test_stable_softmax_matches_float64_at_any_offset(dtype, top):
    x = logits(top, dtype)
    p = stable_softmax(x)
    assert p.dtype == dtype
    # a row sum of N terms, each <= 1 (scale 1), then one exp and one division per element
    assert_close(p, reference(x), dtype, terms=N, depth=2, scale=1.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_naive_equals_stable_when_nothing_overflows(dtype):
    x = logits(2.0, dtype)
    assert torch.isfinite(naive_softmax(x)).all()
    assert_close(naive_softmax(x), reference(x), dtype, terms=N, depth=2, scale=1.0)


@pytest.mark.parametrize("dtype,top", [(torch.float16, 12.0), (torch.bfloat16, 100.0), (torch.float32, 100.0),
                                       (torch.float32, -120.0), (torch.float16, -20.0)])
def test_naive_softmax_breaks_where_exp_leaves_the_range(dtype, top):
    """Overflow: inf / inf = NaN. Underflow of every exp (exp(-120) < float32's 1.4e-45): 0 / 0 = NaN."""
    assert torch.isnan(naive_softmax(logits(top, dtype))).any()


def test_float16_pair_worked_answer():
    p = naive_softmax(torch.tensor([12.0, 1.0], dtype=torch.float16))
    assert math.isnan(p[0].item()) and p[1].item() == 0.0  # exp(12) = 162755 > 65504 -> inf; inf/inf, 2.7/inf
    q = stable_softmax(torch.tensor([12.0, 1.0], dtype=torch.float16))
    assert_close(q, torch.softmax(torch.tensor([12.0, 1.0], dtype=torch.float64), 0), torch.float16, terms=2, depth=2)


@pytest.mark.parametrize("dtype,below,above", [(torch.float16, 11.0, 11.2), (torch.float32, 88.5, 89.0),
                                               (torch.bfloat16, 88.0, 89.0)])
def test_exp_overflow_threshold_is_ln_of_max(dtype, below, above):
    t = exp_overflow_threshold(dtype)
    assert t == pytest.approx(math.log(torch.finfo(dtype).max), rel=0, abs=0)
    assert below < t < above
    assert torch.isfinite(torch.exp(torch.tensor(below, dtype=dtype)))
    assert torch.isinf(torch.exp(torch.tensor(above, dtype=dtype)))


def test_stable_softmax_agrees_with_torch_softmax():
    x = logits(30.0, torch.float32)
    assert_close(stable_softmax(x), torch.softmax(x, dim=-1), torch.float32, terms=N, depth=2, scale=1.0)
