"""A dequant-fused GEMV in Triton: y = W x with W stored as group-wise int4, two codes per byte.

Each program owns 64 output rows and walks K in blocks of 64: it loads 32 packed bytes per row,
splits them into the low (even k) and high (odd k) nibbles, and folds the group's scale and zero
into the dot product,

    sum_k ((q_k - 8) s + z) x_k  =  s * sum_k (q_k - 8) x_k  +  z * sum_k x_k

so the float weight matrix never exists in memory: the kernel reads N*K/2 bytes of codes plus the
scales, the least any int4 GEMV can read. Without a GPU it runs in Triton's interpreter
(TRITON_INTERPRET=1, set below before triton is imported), which executes the same program with NumPy.
"""

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

import triton  # noqa: E402  (after TRITON_INTERPRET)
import triton.language as tl  # noqa: E402

BLOCK_N = 64  # output rows per program
BLOCK_K = 64  # inputs per step along K (32 packed bytes per row)


@triton.jit
def int4_gemv_kernel(x_ptr, packed_ptr, sz_ptr, y_ptr, N, K, GROUP: tl.constexpr,
                     BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    pid = tl.program_id(0)
    rows = pid * BLOCK_N + tl.arange(0, BLOCK_N)
    row_ok = rows < N
    half = tl.arange(0, BLOCK_K // 2)
    acc = tl.zeros((BLOCK_N,), dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        b = tl.load(packed_ptr + rows[:, None] * (K // 2) + (k0 // 2 + half)[None, :], mask=row_ok[:, None], other=0)
        lo = (b & 0xF).to(tl.float32) - 8.0            # codes of the even inputs k0, k0+2, ...
        hi = (b >> 4).to(tl.float32) - 8.0             # codes of the odd inputs k0+1, k0+3, ...
        x_even = tl.load(x_ptr + k0 + 2 * half).to(tl.float32)
        x_odd = tl.load(x_ptr + k0 + 2 * half + 1).to(tl.float32)
        g = k0 // GROUP                                # one group covers this whole block (GROUP % BLOCK_K == 0)
        s = tl.load(sz_ptr + (g * N + rows) * 2, mask=row_ok, other=0.0).to(tl.float32)
        z = tl.load(sz_ptr + (g * N + rows) * 2 + 1, mask=row_ok, other=0.0).to(tl.float32)
        dot = tl.sum(lo * x_even[None, :] + hi * x_odd[None, :], axis=1)
        acc += s * dot + z * (tl.sum(x_even, axis=0) + tl.sum(x_odd, axis=0))
    tl.store(y_ptr + rows, acc, mask=row_ok)


def int4_gemv(x: torch.Tensor, packed: torch.Tensor, scale_zero: torch.Tensor, group: int) -> torch.Tensor:
    """x (K,) float, packed (N, K/2) uint8 (low nibble = even k), scale_zero (K/group, N, 2) -> y (N,) float32."""
    n, k = packed.shape[0], packed.shape[1] * 2
    if k % BLOCK_K or group % BLOCK_K:
        raise ValueError(f"K={k} and the group size {group} must be multiples of {BLOCK_K}")
    if x.shape != (k,) or scale_zero.shape != (k // group, n, 2):
        raise ValueError(f"shapes do not fit: x {tuple(x.shape)}, packed {tuple(packed.shape)}, "
                         f"scale_zero {tuple(scale_zero.shape)}, group {group}")
    y = torch.empty(n, dtype=torch.float32, device=x.device)
    int4_gemv_kernel[(triton.cdiv(n, BLOCK_N),)](x.contiguous(), packed.contiguous(), scale_zero.contiguous(), y,
                                                n, k, GROUP=group, BLOCK_N=BLOCK_N, BLOCK_K=BLOCK_K)
    return y


def gemv_bytes(n: int, k: int, group: int, scale_bytes: int = 4, x_bytes: int = 4) -> dict[str, int]:
    """Bytes moved by one int4 GEMV: fused (codes + scales + x + y) vs dequantize-then-multiply in bf16."""
    codes, scales, io = n * k // 2, (k // group) * n * 2 * scale_bytes, k * x_bytes + n * 4
    return {"fused": codes + scales + io,
            "unfused": codes + scales + 2 * n * k * 2 + io}  # + write the bf16 matrix, then read it again
