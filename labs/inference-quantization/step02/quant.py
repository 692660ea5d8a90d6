"""Weight-only int8: one symmetric scale per output channel, dequantized inside the matmul.

    s[n] = max_k |W[n, k]| / 127,   q[n, k] = round(W[n, k] / s[n])  in [-127, 127]
    y = x @ W^T  ~  (x @ q^T) * s          (s factors out of the sum over k)

Stored: one byte per weight and one fp32 scale per row, a quarter of fp32's bytes.
"""
from __future__ import annotations

import copy

import torch
from torch import nn


def quantize_int8_per_channel(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """W (N, K) float -> q (N, K) int8, scale (N,) float32 with W ~ q * scale[:, None]."""
    w = w.float()
    scale = w.abs().amax(dim=1).clamp(min=1e-12) / 127  # an all-zero row gets a tiny scale, not 0/0
    q = torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8)
    return q, scale


def dequantize_int8(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return q.float() * scale[:, None]


class Int8Linear(nn.Module):
    """A bias-free Linear whose weight is int8 per-channel.

    kernel=True multiplies with PyTorch's CPU kernel `aten._weight_int8pack_mm`, which reads the int8
    weight directly; kernel=False is the Python reference: dequantize the whole matrix, then matmul.
    """

    def __init__(self, linear: nn.Linear, kernel: bool = True):
        super().__init__()
        q, scale = quantize_int8_per_channel(linear.weight.detach())
        self.register_buffer("q", q)
        self.register_buffer("scale", scale)
        self.kernel = kernel

    def forward(self, x):
        x2 = x.reshape(-1, x.shape[-1]).to(self.scale.dtype)
        if self.kernel:
            y = torch.ops.aten._weight_int8pack_mm(x2, self.q, self.scale)
        else:
            y = x2 @ dequantize_int8(self.q, self.scale).to(x2.dtype).T
        return y.to(x.dtype).reshape(*x.shape[:-1], -1)

    def decode_bytes(self) -> int:
        return self.q.numel() * self.q.element_size() + self.scale.numel() * self.scale.element_size()


def quantize_model(model: nn.Module, make_layer) -> nn.Module:
    """A copy of `model` with every nn.Linear (lm_head included) replaced by make_layer(linear).

    The tied lm_head gets its own quantized copy; the embedding stays in float: decoding reads one row of it.
    """
    model = copy.deepcopy(model)
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Linear):
                setattr(parent, name, make_layer(child))
    return model
