"""The same FlashAttention forward in Triton: a program per query block, tl.dot on the tiles.

The CUDA kernel of steps 5-7 gives each thread one query row and loops over the head dimension by
hand. Triton's unit is a block: a program loads a (BLOCK_M, d) block of Q, walks the (BLOCK_N, d)
blocks of K and V, and writes S = Q K^T and P V as two tl.dot calls, which the compiler maps onto
the tensor cores (bf16/fp16 in, float32 accumulate). The algorithm is unchanged: each row keeps its
running max m, sum l and output accumulator; when a block raises m the old l and accumulator are
rescaled by exp(m_old - m_new); causal blocks right of the diagonal are never visited; the program
writes O = acc / l and logsumexp = m + log(l).

Without a GPU, Triton runs the kernel in its NumPy interpreter (TRITON_INTERPRET=1, set below
before triton is imported): the same code, checked on a CPU, slowly.
"""
from __future__ import annotations

import math
import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")  # no GPU: Triton interprets its kernels with NumPy
import triton  # noqa: E402
import triton.language as tl  # noqa: E402

LOG2E = tl.constexpr(1.4426950408889634)  # exp(x) = exp2(x * log2(e)); exp2 is the GPU's own instruction


@triton.jit
def flash_fwd_kernel(q_ptr, k_ptr, v_ptr, o_ptr, lse_ptr, n, scale,
                     D: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, CAUSAL: tl.constexpr,
                     PRECISION: tl.constexpr):
    start_m = tl.program_id(0) * BLOCK_M                          # this program's query block
    base = tl.program_id(1).to(tl.int64) * n * D                  # its head in the (heads, n, d) tensors
    rows = start_m + tl.arange(0, BLOCK_M)
    dims = tl.arange(0, D)
    q = tl.load(q_ptr + base + rows[:, None] * D + dims[None, :], mask=rows[:, None] < n, other=0.0)
    m = tl.full([BLOCK_M], float("-inf"), tl.float32)             # running max of each row (base 2)
    l = tl.zeros([BLOCK_M], tl.float32)                           # running sum of 2^(s - m)
    acc = tl.zeros([BLOCK_M, D], tl.float32)                      # running sum of 2^(s - m) v
    if CAUSAL:
        end = tl.minimum(start_m + BLOCK_M, n)                    # no key block right of the diagonal
    else:
        end = n
    for start_n in range(0, end, BLOCK_N):
        cols = start_n + tl.arange(0, BLOCK_N)
        k = tl.load(k_ptr + base + cols[:, None] * D + dims[None, :], mask=cols[:, None] < n, other=0.0)
        v = tl.load(v_ptr + base + cols[:, None] * D + dims[None, :], mask=cols[:, None] < n, other=0.0)
        s = tl.dot(q, tl.trans(k), input_precision=PRECISION) * (scale * LOG2E)  # scores times log2(e)
        s = tl.where(cols[None, :] < n, s, float("-inf"))
        if CAUSAL:
            s = tl.where(cols[None, :] <= rows[:, None], s, float("-inf"))
        m_new = tl.maximum(m, tl.max(s, axis=1))
        alpha = tl.exp2(m - m_new)                                # rescales what was summed under the old max
        p = tl.exp2(s - m_new[:, None])
        l = l * alpha + tl.sum(p, axis=1)
        acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision=PRECISION)
        m = m_new
    o = acc / l[:, None]
    tl.store(o_ptr + base + rows[:, None] * D + dims[None, :], o.to(o_ptr.dtype.element_ty), mask=rows[:, None] < n)
    tl.store(lse_ptr + tl.program_id(1).to(tl.int64) * n + rows, (m + tl.log2(l)) / LOG2E,
             mask=rows < n)


def attention_triton(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False,
                     scale: float | None = None, block_m: int = 64, block_n: int = 64, num_warps: int = 4,
                     num_stages: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """O and float32 logsumexp of (heads, n, d) q, k, v, like step 6's attention_flash, on the Triton kernel.

    float32 inputs multiply in full float32 (input_precision "ieee"); bf16 and fp16 on the tensor cores.
    """
    if q.dim() != 3 or q.shape != k.shape or q.shape != v.shape or not q.dtype == k.dtype == v.dtype:
        raise ValueError(f"need q, k, v of one (heads, n, d) shape and dtype; got {tuple(q.shape)} {q.dtype}, "
                         f"{tuple(k.shape)} {k.dtype}, {tuple(v.shape)} {v.dtype}")
    heads, n, d = q.shape
    if d < 16 or d & (d - 1):
        raise ValueError(f"head dimension {d} must be a power of two >= 16 (tl.arange and tl.dot need it)")
    if q.dtype not in (torch.float32, torch.bfloat16, torch.float16):
        raise ValueError(f"the Triton kernel takes float32, bfloat16 or float16, not {q.dtype}")
    q, k, v = (t.contiguous() for t in (q, k, v))
    o = torch.empty_like(q)
    lse = torch.empty(heads, n, dtype=torch.float32, device=q.device)
    scale = 1.0 / math.sqrt(d) if scale is None else float(scale)
    grid = (triton.cdiv(n, block_m), heads)
    flash_fwd_kernel[grid](q, k, v, o, lse, n, scale, D=d, BLOCK_M=block_m, BLOCK_N=block_n, CAUSAL=causal,
                           PRECISION="ieee" if q.dtype == torch.float32 else "tf32",
                           num_warps=num_warps, num_stages=num_stages)
    return o, lse


def triton_sdpa(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, is_causal: bool = False,
                scale: float | None = None) -> torch.Tensor:
    """softmax(scale Q K^T [+ causal mask]) V for (batch, heads, n, d) tensors, like flash_sdpa, in Triton."""
    if query.dim() != 4 or query.shape != key.shape or query.shape != value.shape:
        raise ValueError(f"need query, key, value of one (batch, heads, n, d) shape; got "
                         f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
    b, h, n, d = query.shape
    flat = lambda t: t.detach().reshape(b * h, n, d)  # noqa: E731
    o, _ = attention_triton(flat(query), flat(key), flat(value), is_causal, scale)
    return o.reshape(b, h, n, d)
