"""Fused RMSNorm: y = x / sqrt(mean(x^2) + eps) * w, one program per row, float32 inside."""
from __future__ import annotations

import torch
import triton  # the Triton package (absolute import; this module is dlc_kernels.triton.rmsnorm)
import triton.language as tl


@triton.jit
def _rmsnorm_kernel(x_ptr, w_ptr, y_ptr, D, eps, BLOCK_D: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_D)
    mask = cols < D
    x = tl.load(x_ptr + row * D + cols, mask=mask, other=0.0).to(tl.float32)
    ms = tl.sum(x * x, axis=0) / D
    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    y = x * (1.0 / tl.sqrt(ms + eps)) * w
    tl.store(y_ptr + row * D + cols, y.to(y_ptr.dtype.element_ty), mask=mask)


def rmsnorm(x: torch.Tensor, w: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """RMSNorm over the last dim of x (..., D) with weight w (D,); a row must fit one block (D <= 65536)."""
    if w.shape != x.shape[-1:]:
        raise ValueError(f"weight shape {tuple(w.shape)} does not match the last dim of x {tuple(x.shape)}")
    x2 = x.reshape(-1, x.shape[-1]).contiguous()
    y = torch.empty_like(x2)
    n, d = x2.shape
    _rmsnorm_kernel[(n,)](x2, w.contiguous(), y, d, eps, BLOCK_D=triton.next_power_of_2(d))
    return y.view(x.shape)
