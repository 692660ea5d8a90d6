"""Training FLOPs per token, this machine's peak FLOP/s, and model FLOPs utilization (MFU)."""
from __future__ import annotations

import time

import torch

from model import ModelConfig


def matmul_params(cfg: ModelConfig) -> int:
    """Weights that take part in a matmul: every projection and the (tied) V x D output matrix."""
    kv_dim = cfg.n_kv_head * cfg.head_dim
    attn = cfg.d_model * (cfg.d_model + 2 * kv_dim) + cfg.d_model * cfg.d_model  # q, k, v, o
    mlp = 3 * cfg.d_model * cfg.d_ff                                                  # gate, up, down
    return cfg.n_layer * (attn + mlp) + cfg.vocab_size * cfg.d_model


def flops_per_token(cfg: ModelConfig, seq_len: int) -> int:
    """FLOPs to train on one token: 6N for the weights plus 12*L*T*d for attention.

    A weight does a multiply and an add per token forward (2N), and twice that
    backward (gradient for the input and for the weight: 4N). Attention's
    Q K^T and A V do 2*T*d each per token and layer forward, 3x that with backward.
    """
    return 6 * matmul_params(cfg) + 12 * cfg.n_layer * seq_len * cfg.d_model


def measure_peak_flops(device: str = "cpu", dtype=torch.float32, n: int = 1024, repeat: int = 5) -> float:
    """FLOP/s of one large square matmul here: the practical ceiling MFU is measured against.

    On a GPU, use the datasheet peak instead when comparing with published MFU figures.
    """
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    best = float("inf")
    for _ in range(repeat + 1):  # the first call warms up
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        a @ b
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best
