"""What XLA says a program costs, checked against FLOPs counted by hand, and placed on the roofline.

`jit(f).lower(*args)` gives the program as text (StableHLO); `.compile().cost_analysis()`
gives XLA's own count of its FLOPs and of the bytes its operations read and write.
FLOPs / bytes is the arithmetic intensity: below the ridge point (peak FLOP/s divided
by memory bandwidth) a program is limited by memory, above it by arithmetic.
"""
from __future__ import annotations

import math
import re

from model import Config

# NVIDIA H100 SXM datasheet: 989 TFLOP/s dense bf16, 3.35 TB/s HBM3 -> ridge ~295 FLOP/byte
H100_BF16_FLOPS, H100_BYTES_PER_S = 989e12, 3.35e12

_DOT = re.compile(r"stablehlo\.dot_general .*?contracting_dims = \[([\d, ]*)\] x .*?"
                  r": \(tensor<((?:\d+x)+)\w+>, tensor<(?:\d+x)+\w+>\) -> tensor<((?:\d+x)+)\w+>")


def dims(text: str) -> list[int]:
    return [int(d) for d in text.rstrip("x").split("x")]


def dot_flops(hlo_text: str) -> tuple[int, int]:
    """(number of dot_general ops, their FLOPs) read off StableHLO text: 2 * output size * contracted size each."""
    count = flops = 0
    for contract, lhs, out in _DOT.findall(hlo_text):
        lhs = dims(lhs)
        k = math.prod(lhs[int(c)] for c in contract.split(",")) if contract.strip() else 1
        count, flops = count + 1, flops + 2 * math.prod(dims(out)) * k
    return count, flops


def cost(compiled) -> dict:
    """XLA's FLOPs and bytes accessed for a compiled program, and their ratio."""
    c = compiled.cost_analysis()
    flops, nbytes = float(c["flops"]), float(c["bytes accessed"])
    return {"flops": flops, "bytes": nbytes, "intensity": flops / nbytes}


def matmul_flops(m: int, k: int, n: int) -> int:
    return 2 * m * k * n  # m*n outputs, each k multiplies and k adds


def matmul_bytes(m: int, k: int, n: int, itemsize: int = 4) -> int:
    return itemsize * (m * k + k * n + m * n)  # read A and B once, write C once


def forward_matmul_flops(cfg: Config, batch: int, seq: int) -> int:
    """Hand count of the forward pass's matmul FLOPs (the embedding is a gather: no FLOPs)."""
    bt, d, hd, f = batch * seq, cfg.d_model, cfg.head_dim, cfg.d_ff
    proj = matmul_flops(bt, d, cfg.n_heads * hd) * 2 + matmul_flops(bt, d, cfg.n_kv_heads * hd) * 2  # q, o; k, v
    attn = 2 * batch * cfg.n_heads * matmul_flops(seq, hd, seq)  # q k^T and weights @ v, every (t, s) pair
    mlp = 3 * matmul_flops(bt, d, f)  # gate, up, down
    return cfg.n_layers * (proj + attn + mlp) + matmul_flops(bt, d, cfg.vocab_size)


def train_matmul_flops(cfg: Config, batch: int, seq: int) -> int:
    """Backward: each matmul Y = X W needs dX = dY W^T and dW = X^T dY, two more of the same size."""
    return 3 * forward_matmul_flops(cfg, batch, seq)


def roofline_seconds(flops: float, nbytes: float, peak_flops: float, bytes_per_s: float) -> float:
    """The roofline's lower bound on time: whichever of compute and memory takes longer."""
    return max(flops / peak_flops, nbytes / bytes_per_s)
