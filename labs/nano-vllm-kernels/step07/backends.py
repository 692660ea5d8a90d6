"""Swap points: which implementation runs RMSNorm, SiLU-and-mul and attention, chosen by name for each engine.

The model and the runner call through these tables instead of naming one function.
A faster implementation is then one more entry, tested against the reference, and
nothing else changes. The default stays today's code; "auto" picks, per device, the
entry that measured fastest there.
"""
import os
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from attention import (PackedPrefillAttention, PackedPrefillAttentionTriton, PagedAttention, PagedDecodeAttention,
                       PagedDecodeAttentionChunked, PagedDecodeAttentionTriton)


def rms_norm_reference(x: torch.Tensor, weight: torch.Tensor, eps: float, residual: torch.Tensor | None = None):
    """norm(x); with `residual`, the residual add comes first: returns (norm(x + residual), x + residual)."""
    if residual is not None:
        x = residual = x + residual
    dtype = x.dtype
    h = x.float()  # the mean of squares is taken in float32 whatever the model dtype
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    out = weight * h.to(dtype)
    return out if residual is None else (out, residual)


def rms_norm_fused(x: torch.Tensor, weight: torch.Tensor, eps: float, residual: torch.Tensor | None = None):
    """The CPU form: ATen's rms_norm is one kernel where the reference is five ops (pow, mean, add, rsqrt, mul)
    and a weight product, each writing a tensor the next one reads back."""
    if residual is not None:
        x = residual = x + residual
    out = F.rms_norm(x, (x.shape[-1],), weight, eps)
    return out if residual is None else (out, residual)


def rms_norm_triton(*args, **kwargs):
    from triton_kernels import rms_norm_triton as kernel  # imported when first used: triton is for GPUs
    return kernel(*args, **kwargs)


def silu_and_mul_reference(gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    return F.silu(gate) * up


def silu_and_mul_fused(gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    """The CPU form: both ops in place on `gate` (a fresh matmul output nobody else reads), so no new tensor
    is allocated and the result is written where the input already sits in cache."""
    return F.silu(gate, inplace=True).mul_(up)


def silu_and_mul_triton(*args, **kwargs):
    from triton_kernels import silu_and_mul_triton as kernel
    return kernel(*args, **kwargs)


RMSNORM = {"reference": rms_norm_reference, "fused": rms_norm_fused, "triton": rms_norm_triton}
ACTIVATION = {"reference": silu_and_mul_reference, "fused": silu_and_mul_fused, "triton": silu_and_mul_triton}
# An attention backend is a pair: the ctx class of a prefill step and the one of a decode step.
ATTENTION = {"gather": (PagedAttention, PagedDecodeAttention),
             "paged": (PackedPrefillAttentionTriton, PagedDecodeAttentionTriton),  # the Triton kernels
             "paged-chunked": (PagedAttention, PagedDecodeAttentionChunked),  # the paged decode's CPU form
             "varlen": (PackedPrefillAttention, PagedDecodeAttention)}  # packed prefill, CPU form; gather decode
TABLES = {"rmsnorm": RMSNORM, "activation": ACTIVATION, "attention": ATTENTION}
# What "auto" means on each device. Triton compiles for GPUs only (on a CPU it runs in a slow interpreter).
AUTO = {"cpu": {"rmsnorm": "fused", "activation": "fused", "attention": "varlen"},
        "cuda": {"rmsnorm": "triton", "activation": "triton", "attention": "paged"}}
GPU_ONLY = {"triton", "paged"}


@dataclass(frozen=True)
class KernelConfig:
    rmsnorm: str = "auto"
    activation: str = "auto"
    attention: str = "auto"

    @classmethod
    def parse(cls, spec: str) -> "KernelConfig":
        """'auto', or comma-separated choices such as 'rmsnorm=reference,attention=gather'."""
        config = cls()
        if spec == "auto":
            return config
        for item in spec.split(","):
            key, _, value = item.partition("=")
            if key not in TABLES or not value:
                raise ValueError(f"bad kernel choice {item!r}: expected NAME=VALUE with NAME in {sorted(TABLES)}")
            config = replace(config, **{key: value})
        return config

    def resolve(self, device: str) -> "KernelConfig":
        """Replace "auto" by the device's choice and check every name; a ValueError names the choices."""
        chosen = {}
        for key, table in TABLES.items():
            name = getattr(self, key)
            name = AUTO[device][key] if name == "auto" else name
            if name not in table:
                raise ValueError(f"unknown {key} backend {name!r}; choose from {sorted(table)} or 'auto'")
            if name in GPU_ONLY and device != "cuda" and not os.environ.get("TRITON_INTERPRET"):
                raise ValueError(f"the {key} backend {name!r} needs a CUDA GPU (or TRITON_INTERPRET=1)")
            chosen[key] = name
        return KernelConfig(**chosen)

    def __str__(self):
        return ",".join(f"{key}={getattr(self, key)}" for key in TABLES)
