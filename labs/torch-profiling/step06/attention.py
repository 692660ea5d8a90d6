"""Causal attention written out op by op, against PyTorch's fused scaled_dot_product_attention (SDPA).

SDPA is one call with several implementations behind it (backends): "math" is the op-by-op
formula in C++; "flash" and "efficient" are fused kernels that never store the (T, T) scores;
"cudnn" calls NVIDIA's library. PyTorch picks the first one whose conditions the inputs meet
(device, dtype, head size, mask, dropout). The profiler shows which kernel op actually ran.
"""
from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.profiler import profile

BACKENDS = {"math": SDPBackend.MATH, "flash": SDPBackend.FLASH_ATTENTION,
            "efficient": SDPBackend.EFFICIENT_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION}
# The ATen op each backend runs as, as it appears in a profile.
KERNEL_OPS = {"aten::_scaled_dot_product_attention_math": "math",
              "aten::_scaled_dot_product_flash_attention_for_cpu": "flash (CPU)",
              "aten::_scaled_dot_product_flash_attention": "flash",
              "aten::_scaled_dot_product_efficient_attention": "efficient",
              "aten::_scaled_dot_product_cudnn_attention": "cudnn"}


def attention_manual(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(d), causal) v for (B, H, T, d) inputs: every intermediate is a (B, H, T, T) tensor."""
    T = q.shape[-2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    mask = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
    scores = scores.masked_fill(~mask, float("-inf"))
    return F.softmax(scores, dim=-1) @ v


def attention_sdpa(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def kernel_that_ran(q, k, v, backend: str | None = None) -> str:
    """Profile one SDPA call (restricted to `backend` if given) and name the kernel op found in it."""
    with sdpa_kernel(BACKENDS[backend]) if backend else contextlib.nullcontext():
        with profile() as prof:
            attention_sdpa(q, k, v)
    ran = [KERNEL_OPS[e.key] for e in prof.key_averages() if e.key in KERNEL_OPS]
    assert len(ran) == 1, ran
    return ran[0]


def backend_table(q, k, v) -> dict[str, str]:
    """backend -> the kernel it ran, or why it refused these inputs on this machine."""
    out = {"(default)": kernel_that_ran(q, k, v)}
    for name in BACKENDS:
        try:
            out[name] = kernel_that_ran(q, k, v, name)
        except RuntimeError as e:
            out[name] = "refused: " + str(e).strip().splitlines()[0][:80]
    return out


def attention_traffic(b: int, h: int, t: int, d: int, itemsize: int = 4) -> dict:
    """FLOPs (the two matmuls, full T x T) and bytes moved: op by op against one fused kernel."""
    flops = 2 * 2 * b * h * t * t * d           # q k^T and p v, 2 FLOPs per multiply-add
    qkv = b * h * t * d * itemsize              # one (B, H, T, d) tensor
    s = b * h * t * t * itemsize                # one (B, H, T, T) tensor
    naive = {                                   # (bytes read, bytes written) of each op in attention_manual
        "q @ k^T": (2 * qkv, s),
        "/ sqrt(d)": (s, s),
        "masked_fill": (s, s),
        "softmax": (s, s),
        "p @ v": (s + qkv, qkv),
    }
    return {"flops": flops, "naive_ops": naive, "naive_bytes": sum(r + w for r, w in naive.values()),
            "fused_bytes": 4 * qkv}             # read q, k, v; write o
