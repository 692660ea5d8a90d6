"""The naive matmul against float64 NumPy, and 2*M*N*K against two independent counts."""
import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from dlc_shared.testing import assert_close
from matmul import matmul_flops, naive_matmul

rng = np.random.default_rng(1234)
SHAPES = [tuple(int(x) for x in rng.integers(1, 13, size=3)) for _ in range(8)] + [(1, 1, 1), (7, 1, 5), (1, 9, 4)]


class Counted:
    """A number that counts every multiply and add done on it (the ops the loop really executes)."""
    muls = adds = 0

    def __init__(self, value):
        self.value = value

    def __mul__(self, other):
        Counted.muls += 1
        return Counted(self.value * other.value)

    def __add__(self, other):
        Counted.adds += 1
        return Counted(self.value + (other.value if isinstance(other, Counted) else other))

    __radd__ = __add__


@pytest.mark.parametrize("m,n,k", SHAPES)
def test_naive_matmul_matches_float64_numpy(m, n, k):
    a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    c = np.array(naive_matmul(a.tolist(), b.tolist()))
    assert c.shape == (m, n)
    assert_close(c, a @ b, np.float64, terms=k)  # both sum k float64 products, in different orders


def test_naive_matmul_rejects_mismatched_inner_dimensions():
    with pytest.raises(ValueError, match="inner dimensions"):
        naive_matmul([[1.0, 2.0]], [[1.0, 2.0]])


@pytest.mark.parametrize("m,n,k", SHAPES)
def test_flop_formula_counts_what_the_loop_executes(m, n, k):
    Counted.muls = Counted.adds = 0
    a = [[Counted(float(v)) for v in row] for row in rng.standard_normal((m, k))]
    b = [[Counted(float(v)) for v in row] for row in rng.standard_normal((k, n))]
    naive_matmul(a, b)
    assert Counted.muls == m * n * k and Counted.adds == m * n * k
    assert matmul_flops(m, n, k) == Counted.muls + Counted.adds


@pytest.mark.parametrize("m,n,k", SHAPES)
def test_flop_formula_matches_torch_flop_counter(m, n, k):
    a, b = torch.randn(m, k), torch.randn(k, n)
    with FlopCounterMode(display=False) as counter:
        torch.mm(a, b)
    assert counter.get_total_flops() == matmul_flops(m, n, k)
