"""Row softmax with the online max and sum (Milakov and Gimelshein, 2018): two passes over any row length.

Pass 1 keeps a running max m and sum l, rescaling l by exp(m_old - m_new) when the max grows;
pass 2 writes exp(x - m) / l. Rows need at least one finite value (a causal row always has one).
"""
from __future__ import annotations

import torch
import triton  # the Triton package (absolute import; this module is dlc_kernels.triton.softmax)
import triton.language as tl


@triton.jit
def _softmax_kernel(x_ptr, y_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    x_row, y_row = x_ptr + row * n_cols, y_ptr + row * n_cols
    m = tl.full((), float("-inf"), tl.float32)
    l = tl.zeros((), tl.float32)
    for start in range(0, n_cols, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        b = tl.load(x_row + cols, mask=cols < n_cols, other=float("-inf")).to(tl.float32)
        m_new = tl.maximum(m, tl.max(b, axis=0))
        l = l * tl.exp(m - m_new) + tl.sum(tl.exp(b - m_new), axis=0)
        m = m_new
    for start in range(0, n_cols, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        b = tl.load(x_row + cols, mask=cols < n_cols, other=float("-inf")).to(tl.float32)
        tl.store(y_row + cols, (tl.exp(b - m) / l).to(y_ptr.dtype.element_ty), mask=cols < n_cols)


def softmax(x: torch.Tensor, block: int = 1024) -> torch.Tensor:
    """Softmax over the last dim of x; `block` columns per step (a power of two)."""
    if block < 1 or block & (block - 1):
        raise ValueError(f"block {block} must be a power of two")
    x2 = x.reshape(-1, x.shape[-1]).contiguous()
    y = torch.empty_like(x2)
    _softmax_kernel[(x2.shape[0],)](x2, y, x2.shape[1], BLOCK=block)
    return y.view(x.shape)
