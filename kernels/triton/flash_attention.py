"""Causal FlashAttention forward (Dao et al., 2022/2023): tiles of q against tiles of k and v, online softmax.

A program owns BLOCK_M query rows of one (batch, head) and walks the key/value blocks up to the
diagonal, keeping each row's running max m, sum l and output accumulator in registers, so the
(T, T) scores never reach memory. It also returns logsumexp = m + log(l) per row (for a backward).
"""
from __future__ import annotations

import math

import torch
import triton  # the Triton package (absolute import; this module is dlc_kernels.triton.flash_attention)
import triton.language as tl


@triton.jit
def _flash_fwd_kernel(q_ptr, k_ptr, v_ptr, o_ptr, lse_ptr, T, scale,
                      HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    start_m = tl.program_id(0) * BLOCK_M
    bh = tl.program_id(1)                                        # which (batch, head)
    base = bh * T * HEAD_DIM                                     # (B*H, T, d) contiguous
    rows = start_m + tl.arange(0, BLOCK_M)
    dims = tl.arange(0, HEAD_DIM)
    q = tl.load(q_ptr + base + rows[:, None] * HEAD_DIM + dims[None, :], mask=rows[:, None] < T, other=0.0)
    m = tl.full((BLOCK_M,), float("-inf"), tl.float32)           # running max of each row
    l = tl.zeros((BLOCK_M,), tl.float32)                         # running sum of exp(s - m)
    acc = tl.zeros((BLOCK_M, HEAD_DIM), tl.float32)              # running sum of exp(s - m) * v
    for start_n in range(0, tl.minimum(start_m + BLOCK_M, T), BLOCK_N):   # causal: no block right of the diagonal
        cols = start_n + tl.arange(0, BLOCK_N)
        kv_mask = cols[:, None] < T
        k = tl.load(k_ptr + base + cols[:, None] * HEAD_DIM + dims[None, :], mask=kv_mask, other=0.0)
        v = tl.load(v_ptr + base + cols[:, None] * HEAD_DIM + dims[None, :], mask=kv_mask, other=0.0)
        s = tl.dot(q, tl.trans(k)) * scale                       # (BLOCK_M, BLOCK_N) scores, float32
        s = tl.where((cols[None, :] <= rows[:, None]) & (cols[None, :] < T), s, float("-inf"))
        m_new = tl.maximum(m, tl.max(s, axis=1))
        alpha = tl.exp(m - m_new)                                # rescales what was summed under the old max
        p = tl.exp(s - m_new[:, None])
        l = l * alpha + tl.sum(p, axis=1)
        acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v)
        m = m_new
    o = acc / l[:, None]
    tl.store(o_ptr + base + rows[:, None] * HEAD_DIM + dims[None, :], o.to(o_ptr.dtype.element_ty),
             mask=rows[:, None] < T)
    tl.store(lse_ptr + bh * T + rows, m + tl.log(l), mask=rows < T)


def flash_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, block_m: int = 64, block_n: int = 64):
    """Causal attention of (B, H, T, d) q, k, v; returns (output (B, H, T, d), logsumexp (B, H, T) float32)."""
    B, H, T, d = q.shape
    if k.shape != q.shape or v.shape != q.shape:
        raise ValueError(f"q, k, v must have one shape, got {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    if d < 16 or d & (d - 1):
        raise ValueError(f"head size {d} must be a power of two >= 16 (tl.dot needs it)")
    q, k, v = (t.contiguous() for t in (q, k, v))
    o = torch.empty_like(q)
    lse = torch.empty(B, H, T, dtype=torch.float32, device=q.device)
    grid = (triton.cdiv(T, block_m), B * H)
    _flash_fwd_kernel[grid](q, k, v, o, lse, T, 1.0 / math.sqrt(d), HEAD_DIM=d, BLOCK_M=block_m, BLOCK_N=block_n)
    return o, lse
