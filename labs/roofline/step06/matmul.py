"""Matrix multiplication written out as three loops, and the cost model that goes with it.

C[i, j] = sum_p A[i, p] * B[p, j]. For each of the M*N outputs the inner loop does
K multiplies and K adds, so an (M x K) @ (K x N) matmul costs 2*M*N*K FLOPs.

It must also move data. At the very least A and B are read once and C is written once;
the triple loop with no cache in between instead loads a row of A and a column of B for
every output, 2*M*N*K loads in all.
"""
from __future__ import annotations


def naive_matmul(a, b):
    """C = A @ B for lists of rows; the elements may be any numbers (floats, counters, ...)."""
    m, k = len(a), len(a[0])
    k_b, n = len(b), len(b[0])
    if k != k_b:
        raise ValueError(f"inner dimensions differ: A is {m}x{k}, B is {k_b}x{n}")
    c = [[0.0] * n for _ in range(m)]
    for i in range(m):
        for j in range(n):
            acc = 0.0
            for p in range(k):
                acc = acc + a[i][p] * b[p][j]  # one multiply, one add
            c[i][j] = acc
    return c


def matmul_flops(m: int, n: int, k: int) -> int:
    """FLOPs of an (m x k) @ (k x n) matmul: m*n outputs, each k multiplies + k adds."""
    return 2 * m * n * k


def matmul_bytes_ideal(m: int, n: int, k: int, itemsize: int = 4) -> int:
    """The least traffic any matmul can have: read A and B once, write C once."""
    return itemsize * (m * k + k * n + m * n)


def matmul_bytes_naive(m: int, n: int, k: int, itemsize: int = 4) -> int:
    """The triple loop's traffic if every a[i][p] and b[p][j] load went to memory: 2*M*N*K loads + M*N stores."""
    return itemsize * (2 * m * n * k + m * n)
