"""Our FlashAttention behind the interface of torch.nn.functional.scaled_dot_product_attention.

SDPA takes (batch, heads, n, d) tensors, is_causal and scale, and picks a backend for the inputs:
FlashAttention-2 (fp16/bf16 on recent GPUs), memory-efficient attention, cuDNN, or the plain math
path that forms the n x n scores. `flash_sdpa` takes the same arguments, folds batch and heads
into one axis, and runs attention_flash on a GPU or its NumPy twin on the CPU, so the two can be
compared on the same inputs.
"""
from __future__ import annotations

import numpy as np
import torch

from flash import flash_forward_twin
from tiling import BUDGET_BYTES, block_sizes


def flash_sdpa(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, is_causal: bool = False,
               scale: float | None = None) -> torch.Tensor:
    """softmax(scale Q K^T [+ causal mask]) V for (batch, heads, n, d) tensors, in query's dtype.

    CUDA tensors run attention_flash in float32 (d = 64 or 128); CPU tensors run the twin in their own
    dtype (float32 or float64) with the kernel's block sizes.
    """
    if query.dim() != 4 or query.shape != key.shape or query.shape != value.shape:
        raise ValueError(f"need query, key, value of one (batch, heads, n, d) shape; got "
                         f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
    b, h, n, d = query.shape
    if query.is_cuda:
        from ext import ops
        flat = lambda t: t.reshape(b * h, n, d).float().contiguous()  # noqa: E731
        o, _ = ops().attention_flash(flat(query), flat(key), flat(value), is_causal, scale)
        return o.reshape(b, h, n, d).to(query.dtype)
    if query.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"the CPU twin runs in float32 or float64, not {query.dtype}")
    flat = lambda t: t.detach().reshape(b * h, n, d).numpy()  # noqa: E731
    br, bc = block_sizes(BUDGET_BYTES, d)
    o, _, _ = flash_forward_twin(flat(query), flat(key), flat(value), br, bc, scale=scale, causal=is_causal)
    return torch.from_numpy(np.ascontiguousarray(o)).reshape(b, h, n, d)
