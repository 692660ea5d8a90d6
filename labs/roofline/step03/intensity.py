"""Arithmetic intensity: the FLOPs an op does per byte it moves.

Bytes are the ideal traffic (every input read once, every output written once), so
an op's intensity is the best any implementation of it can reach. Row-wise ops count
one FLOP per arithmetic step per element (an exp counts as one, by convention).
"""
from __future__ import annotations

from dataclasses import dataclass

from matmul import matmul_bytes_ideal, matmul_flops


@dataclass(frozen=True)
class Op:
    name: str
    kind: str     # "add", "softmax", "rmsnorm" or "matmul"
    shape: tuple  # (rows, cols) for the row-wise ops, (m, n, k) for a matmul
    flops: int
    bytes: int

    @property
    def intensity(self) -> float:
        """FLOP per byte."""
        return self.flops / self.bytes


def matmul_op(name: str, m: int, n: int, k: int, itemsize: int = 4) -> Op:
    return Op(name, "matmul", (m, n, k), matmul_flops(m, n, k), matmul_bytes_ideal(m, n, k, itemsize))


def add_op(name: str, rows: int, cols: int, itemsize: int = 4) -> Op:
    """z = x + y: one add per element; read x and y, write z."""
    return Op(name, "add", (rows, cols), rows * cols, 3 * rows * cols * itemsize)


def softmax_op(name: str, rows: int, cols: int, itemsize: int = 4) -> Op:
    """Softmax over each row: max, subtract, exp, sum, divide = 5 FLOPs per element; read x, write y."""
    return Op(name, "softmax", (rows, cols), 5 * rows * cols, 2 * rows * cols * itemsize)


def rmsnorm_op(name: str, rows: int, cols: int, itemsize: int = 4) -> Op:
    """RMSNorm over each row: square, sum, scale by 1/rms, scale by weight = 4 FLOPs per element;
    read x and the weight vector, write y."""
    return Op(name, "rmsnorm", (rows, cols), 4 * rows * cols, (2 * rows * cols + cols) * itemsize)


def standard_ops(rows: int = 8192, cols: int = 4096, gemm: int = 2048, tokens: int = 16,
                 itemsize: int = 4) -> list[Op]:
    """The ops this lab keeps coming back to: three row-wise ops on a rows x cols activation,
    and matmuls against a cols x rows weight with 1 token (GEMV), a few tokens, and a square GEMM."""
    return [
        add_op("add x+y", rows, cols, itemsize),
        softmax_op("softmax", rows, cols, itemsize),
        rmsnorm_op("rmsnorm", rows, cols, itemsize),
        matmul_op("GEMV (1 token)", 1, rows, cols, itemsize),
        matmul_op(f"skinny GEMM ({tokens} tokens)", tokens, rows, cols, itemsize),
        matmul_op("square GEMM", gemm, gemm, gemm, itemsize),
    ]
