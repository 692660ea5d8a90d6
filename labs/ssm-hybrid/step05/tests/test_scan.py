"""The parallel scan against a float64 NumPy loop of the recurrence: values, round counts, the combine's algebra."""
import math

import numpy as np
import pytest
import torch
from dlc_shared.testing import assert_close

from scan import combine, hillis_steele_scan, selective_scan_parallel
from ssm import selective_scan
from test_ssm import inputs, scan_ref


def loop_ref(a, b):
    a, b = a.double().numpy(), b.double().numpy()
    h, out = np.zeros_like(b[:, 0]), np.zeros_like(b)
    for t in range(a.shape[1]):
        h = a[:, t] * h + b[:, t]
        out[:, t] = h
    return out


def test_combine_is_associative_exactly_on_small_integers():
    g = torch.Generator().manual_seed(0)
    x, y, z = [(torch.randint(-5, 6, (50,), generator=g).double(), torch.randint(-5, 6, (50,), generator=g).double())
               for _ in range(3)]
    left, right = combine(combine(x, y), z), combine(x, combine(y, z))
    assert torch.equal(left[0], right[0]) and torch.equal(left[1], right[1])
    # and it is not commutative: the order of the steps matters
    assert not torch.equal(combine(x, y)[1], combine(y, x)[1])


@pytest.mark.parametrize("T", [1, 2, 7, 16, 100, 1000])
def test_hillis_steele_equals_the_recurrence(T):
    g = torch.Generator().manual_seed(T)
    a = torch.rand(3, T, 5, generator=g) * 0.98 + 0.01
    b = torch.randn(3, T, 5, generator=g)
    h, rounds = hillis_steele_scan(a, b, dim=1)
    assert rounds == (math.ceil(math.log2(T)) if T > 1 else 0)
    # h_t sums up to T decayed inputs; each passed through one combine per round
    assert_close(h, loop_ref(a, b), torch.float32, terms=T, depth=max(rounds, 1))


def test_selective_scan_parallel_equals_the_sequential_one():
    x, delta, A, B, C, D = inputs(T=37)
    y_ref, h_ref = scan_ref(x, delta, A, B, C, D)
    y, h = selective_scan_parallel(x, delta, A, B, C, D)
    rounds = math.ceil(math.log2(37))
    assert_close(y, y_ref, torch.float32, terms=37 * A.shape[1], depth=rounds)
    assert_close(h, h_ref, torch.float32, terms=37, depth=rounds)
    y_seq, _ = selective_scan(x, delta, A, B, C, D)
    assert_close(y, y_seq.double(), torch.float32, terms=37 * A.shape[1], depth=37)


def test_parallel_scan_continues_from_a_state():
    x, delta, A, B, C, D = inputs(T=20)
    y_ref, _ = scan_ref(x, delta, A, B, C, D)
    y1, h = selective_scan_parallel(x[:, :9], delta[:, :9], A, B[:, :9], C[:, :9], D)
    y2, _ = selective_scan_parallel(x[:, 9:], delta[:, 9:], A, B[:, 9:], C[:, 9:], D, h0=h)
    assert_close(torch.cat([y1, y2], 1), y_ref, torch.float32, terms=20 * A.shape[1], depth=5)


def test_a_wrong_shift_is_caught():
    g = torch.Generator().manual_seed(1)
    a, b = torch.rand(1, 16, 2, generator=g), torch.randn(1, 16, 2, generator=g)
    h, _ = hillis_steele_scan(a, b, dim=1)
    wrong, _ = hillis_steele_scan(a, b.roll(1, dims=1), dim=1)  # inputs one place late
    with pytest.raises(AssertionError):
        assert_close(wrong, loop_ref(a, b), torch.float32, terms=16, depth=4)
    assert_close(h, loop_ref(a, b), torch.float32, terms=16, depth=4)
