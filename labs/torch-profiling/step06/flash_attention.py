"""FlashAttention forward in Triton: attention tile by tile with the online softmax, causal.

A program owns BLOCK_M query rows of one (batch, head). It walks the key/value blocks left to
right, and for each computes the (BLOCK_M, BLOCK_N) scores in registers, updates the running
max m and sum l of every row (the online softmax), rescales its output accumulator by
exp(m_old - m_new) and adds p @ v. The (T, T) score matrix never exists in memory: each program
reads its queries once, the keys and values of the blocks it needs, and writes its outputs once.
Causal: key blocks to the right of the diagonal are skipped, and the diagonal block is masked.
It also writes logsumexp = m + log(l) per row, what a backward pass needs to rebuild p.
(Dao et al., FlashAttention, 2022; FlashAttention-2, 2023.)
"""
from __future__ import annotations

import math
import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")  # no GPU: Triton runs its kernels in a NumPy interpreter
import triton  # noqa: E402
import triton.language as tl  # noqa: E402


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


def flash_traffic(b: int, h: int, t: int, d: int, block_m: int = 64, itemsize: int = 2) -> dict:
    """FLOPs of causal attention on the tiles computed, and the bytes the kernel moves (square tiles).

    Query block i (of n = t / block_m) meets key/value blocks 0..i: n(n+1)/2 tiles in all, each
    reading one key and one value block; q is read once, o written once, and 4 bytes of lse per row.
    """
    n = t // block_m
    pairs = n * (n + 1) // 2
    flops = 2 * 2 * b * h * pairs * block_m * block_m * d       # q k^T and p v on every computed tile
    tile = block_m * d * itemsize                               # one (block, d) block of q, k, v or o
    nbytes = b * h * (n * tile + 2 * pairs * tile + n * tile + t * 4)
    return {"flops": flops, "bytes": nbytes, "intensity": flops / nbytes}


def main() -> None:
    """Check the kernel against SDPA at a small shape, then count the work at the GPU benchmark's shape."""
    import time

    import torch.nn.functional as F
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 2, 128, 32, generator=gen) for _ in range(3))
    t0 = time.perf_counter()
    o, lse = flash_attention(q, k, v)
    where = "GPU" if not os.environ.get("TRITON_INTERPRET") else "Triton interpreter (CPU)"
    print(f"(1, 2, 128, 32) float32 on the {where}: {time.perf_counter() - t0:.2f} s")
    ref = F.scaled_dot_product_attention(q.double(), k.double(), v.double(), is_causal=True)
    print(f"max |output - SDPA float64| = {(o.double() - ref).abs().max().item():.2e}; "
          f"logsumexp of row 0 = {lse[0, 0, 0].item():.4f} (its one score: q0.k0/sqrt(32))")
    shape = (4, 16, 4096, 128)
    t = flash_traffic(*shape, block_m=64)
    full = 2 * 2 * 4 * 16 * 4096 * 4096 * 128
    print(f"causal attention {shape} bf16, 64 x 64 tiles: {t['flops'] / 1e9:.1f} GFLOP "
          f"({t['flops'] / full:.3f} of the full T x T), {t['bytes'] / 2**20:.0f} MiB moved, "
          f"{t['intensity']:.0f} FLOP/byte")
    s_bytes = 4 * 16 * 4096 * 4096 * 2
    print(f"the (T, T) scores it never stores: {s_bytes / 2**30:.0f} GiB in bf16")


if __name__ == "__main__":
    main()
