"""The float64 reference against torch's scaled_dot_product_attention and logsumexp (an independent code path)."""
import numpy as np
import pytest
import torch

import reference as ref
from dlc_shared.testing import assert_close

RNG = np.random.default_rng(0)
sdpa = torch.nn.functional.scaled_dot_product_attention


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("heads,n,d", [(1, 1, 4), (2, 33, 16), (3, 64, 8)])
def test_attention_matches_sdpa(heads, n, d, causal):
    q, k, v = (RNG.standard_normal((heads, n, d)) for _ in range(3))
    o, lse = ref.attention(q, k, v, causal=causal)
    assert n == 1 or np.ptp(o) > 0.1  # varied outputs, not an average of everything
    t = lambda a: torch.tensor(a)  # noqa: E731
    assert_close(o, sdpa(t(q), t(k), t(v), is_causal=causal).numpy(), np.float64, terms=n, depth=3)
    s = t(q) @ t(k).transpose(-1, -2) / np.sqrt(d)
    if causal:
        s = s.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), float("-inf"))
    assert_close(lse, torch.logsumexp(s, -1).numpy(), np.float64, terms=n, scale=float(np.abs(lse).max()))


def test_softmax_rows_sum_to_one_and_ignore_a_shift():
    x = RNG.standard_normal((4, 30)) * 5
    assert_close(ref.softmax(x).sum(-1), np.ones(4), np.float64, terms=30)
    assert_close(ref.softmax(x + 1000.0), ref.softmax(x), np.float64, terms=30, scale=1000.0)
