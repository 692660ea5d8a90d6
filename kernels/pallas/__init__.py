"""Pallas kernels written in the JAX profiling lab, kept as a package other labs can import.

- rmsnorm: x / sqrt(mean(x^2) + eps) * w, one grid point per block of whole rows.
- softmax: a row-blocked softmax over the last axis (max subtracted, read once, written once).
- matmul: a blocked matmul; each grid point owns one output tile and walks K in blocks.
- flash_attention: causal attention forward with an online softmax, never forming the (T, T) scores.

Every kernel takes interpret=True (default: runs anywhere, the CPU included) or
interpret=False (compiled for the GPU). Shapes must be multiples of the block sizes.
"""
from .flash_attention import flash_attention
from .matmul import matmul
from .rmsnorm import rmsnorm
from .softmax import softmax

__all__ = ["flash_attention", "matmul", "rmsnorm", "softmax"]
