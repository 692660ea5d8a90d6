"""RMSNorm three ways: op by op in PyTorch, fused by torch.compile, and fused by hand in Triton.

y = x / sqrt(mean(x^2) + eps) * w. Op by op, every step reads its input from memory and writes
its output back: x^2, the mean, the rsqrt and x * rsqrt are intermediates that make the round
trip. A fused kernel keeps one row in registers: it reads x once and writes y once.
"""
from __future__ import annotations

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")  # no GPU: Triton runs its kernels in a NumPy interpreter
import triton  # noqa: E402
import triton.language as tl  # noqa: E402


def rmsnorm_naive(x: torch.Tensor, w: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """One PyTorch op per line: each writes a tensor that the next one reads back."""
    x32 = x.float()
    sq = x32 * x32                              # (N, D) intermediate
    ms = sq.mean(dim=-1, keepdim=True)          # (N, 1)
    r = torch.rsqrt(ms + eps)                   # (N, 1), through another (N, 1) for ms + eps
    xn = x32 * r                                # (N, D) intermediate
    return (xn * w).to(x.dtype)


# torch.compile traces the same function and generates one loop (C++ on a CPU, Triton on a GPU).
rmsnorm_compiled = torch.compile(rmsnorm_naive, dynamic=False)


@triton.jit
def _rmsnorm_kernel(x_ptr, w_ptr, y_ptr, D, eps, BLOCK_D: tl.constexpr):
    row = tl.program_id(0)                      # one program normalizes one row
    cols = tl.arange(0, BLOCK_D)
    mask = cols < D
    x = tl.load(x_ptr + row * D + cols, mask=mask, other=0.0).to(tl.float32)   # x read once
    ms = tl.sum(x * x, axis=0) / D
    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    y = x * (1.0 / tl.sqrt(ms + eps)) * w
    tl.store(y_ptr + row * D + cols, y.to(y_ptr.dtype.element_ty), mask=mask)  # y written once


def rmsnorm_triton(x: torch.Tensor, w: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """The fused kernel over the rows of x (..., D); a whole row fits one block of BLOCK_D >= D."""
    x2 = x.reshape(-1, x.shape[-1]).contiguous()
    y = torch.empty_like(x2)
    n, d = x2.shape
    _rmsnorm_kernel[(n,)](x2, w, y, d, eps, BLOCK_D=triton.next_power_of_2(d))
    return y.view(x.shape)


def traffic(n: int, d: int, itemsize: int = 4) -> dict:
    """FLOPs and bytes moved for an (n, d) float32 RMSNorm, op by op and fused (w read once per op)."""
    flops = 4 * n * d + 3 * n                   # square, add, scale, weight per element; eps, rsqrt, /D per row
    row = n * itemsize                          # an (n, 1) tensor
    full = n * d * itemsize                     # an (n, d) tensor
    naive = {                                   # (bytes read, bytes written) of each op in rmsnorm_naive
        "x * x": (full, full),
        "mean": (full, row),
        "+ eps": (row, row),
        "rsqrt": (row, row),
        "x * r": (full + row, full),
        "* w": (full + d * itemsize, full),
    }
    naive_bytes = sum(r + w for r, w in naive.values())
    fused_bytes = full + d * itemsize + full    # read x and w, write y
    return {"flops": flops, "naive_ops": naive, "naive_bytes": naive_bytes, "fused_bytes": fused_bytes,
            "naive_intensity": flops / naive_bytes, "fused_intensity": flops / fused_bytes}
