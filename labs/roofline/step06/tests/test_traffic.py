"""Bytes moved: the ideal count against real arrays' sizes, the naive count against the loop's own loads."""
import numpy as np
import pytest

from matmul import matmul_bytes_ideal, matmul_bytes_naive, naive_matmul

rng = np.random.default_rng(99)
SHAPES = [tuple(int(x) for x in rng.integers(1, 11, size=3)) for _ in range(8)] + [(1, 1, 1), (6, 1, 9)]


class CountingMatrix:
    """Rows of numbers that count every element load `m[i][p]` (what a cacheless machine fetches)."""

    def __init__(self, values):
        self.rows = [CountingRow(self, row) for row in values]
        self.loads = 0

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return self.rows[i]


class CountingRow:
    def __init__(self, owner, values):
        self.owner, self.values = owner, list(values)

    def __len__(self):
        return len(self.values)

    def __getitem__(self, p):
        self.owner.loads += 1
        return self.values[p]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("m,n,k", SHAPES)
def test_ideal_bytes_are_the_sizes_of_a_b_and_c(m, n, k, dtype):
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    c = a @ b
    assert matmul_bytes_ideal(m, n, k, np.dtype(dtype).itemsize) == a.nbytes + b.nbytes + c.nbytes


@pytest.mark.parametrize("m,n,k", SHAPES)
def test_naive_bytes_count_every_load_of_the_loop(m, n, k):
    a = CountingMatrix(rng.standard_normal((m, k)).tolist())
    b = CountingMatrix(rng.standard_normal((k, n)).tolist())
    naive_matmul(a, b)
    # len(a[0]) / len(b[0]) read the shapes, not elements; every element load is a[i][p] or b[p][j]
    assert a.loads == m * n * k and b.loads == m * n * k
    assert matmul_bytes_naive(m, n, k, 4) == 4 * (a.loads + b.loads + m * n)


@pytest.mark.parametrize("n", [1, 2, 7, 64, 1000])
def test_square_naive_over_ideal_is_two_n_plus_one_over_three(n):
    # hand-derived: (2n^3 + n^2) / (3n^2) = (2n + 1) / 3
    # the same rational number, each side one correctly rounded division of exact integers: equal bit for bit
    assert matmul_bytes_naive(n, n, n) / matmul_bytes_ideal(n, n, n) == (2 * n + 1) / 3
