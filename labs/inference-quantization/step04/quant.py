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


def quantize_int4_groupwise(w: torch.Tensor, group: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
    """W (N, K) -> codes q (N, K) uint8 in 0..15 and scale_zero (K//group, N, 2) float32.

    Each run of `group` weights along K gets its own range [lo, hi], mapped onto 16 levels:
        s = (hi - lo) / 15,   q = round((w - lo) / s),   w ~ (q - 8) * s + z  with  z = lo + 8 s
    (the (q - 8) * s + z form is the one PyTorch's int4 kernels use; scale_zero[g, n] = (s, z)).
    """
    n, k = w.shape
    if k % group:
        raise ValueError(f"K={k} is not a multiple of the group size {group}")
    wg = w.float().reshape(n, k // group, group)
    lo, hi = wg.amin(dim=2), wg.amax(dim=2)
    s = ((hi - lo) / 15).clamp(min=1e-12)
    q = torch.round((wg - lo[..., None]) / s[..., None]).clamp(0, 15).to(torch.uint8).reshape(n, k)
    scale_zero = torch.stack([s, lo + 8 * s], dim=-1).transpose(0, 1).contiguous()
    return q, scale_zero


def dequantize_int4(q: torch.Tensor, scale_zero: torch.Tensor, group: int) -> torch.Tensor:
    s = scale_zero[..., 0].T.repeat_interleave(group, dim=1)
    z = scale_zero[..., 1].T.repeat_interleave(group, dim=1)
    return (q.to(s.dtype) - 8) * s + z


def pack_int4(q: torch.Tensor) -> torch.Tensor:
    """Codes (N, K) in 0..15 -> bytes (N, K/2): byte j holds q[:, 2j] in its low and q[:, 2j+1] in its high nibble."""
    return q[:, 0::2] | (q[:, 1::2] << 4)


def unpack_int4(packed: torch.Tensor) -> torch.Tensor:
    return torch.stack([packed & 0xF, packed >> 4], dim=-1).reshape(packed.shape[0], -1)


class Int4Linear(nn.Module):
    """A bias-free Linear with group-wise int4 weights, two per byte.

    kernel=True multiplies with PyTorch's CPU kernel `aten._weight_int4pack_mm_for_cpu`, which wants the
    codes re-tiled by `aten._convert_weight_to_int4pack_for_cpu` (same bytes, another order); kernel=False
    is the Python reference: unpack, dequantize, matmul.
    """

    def __init__(self, linear: nn.Linear, group: int = 128, kernel: bool = True):
        super().__init__()
        q, scale_zero = quantize_int4_groupwise(linear.weight.detach(), group)
        self.group, self.kernel = group, kernel
        self.register_buffer("packed", pack_int4(q))
        self.register_buffer("scale_zero", scale_zero)
        if kernel:
            self.register_buffer("kernel_packed", torch.ops.aten._convert_weight_to_int4pack_for_cpu(q.int(), 1))

    def forward(self, x):
        x2 = x.reshape(-1, x.shape[-1]).to(self.scale_zero.dtype)
        if self.kernel:
            y = torch.ops.aten._weight_int4pack_mm_for_cpu(x2, self.kernel_packed, self.group, self.scale_zero)
        else:
            y = x2 @ dequantize_int4(unpack_int4(self.packed), self.scale_zero, self.group).to(x2.dtype).T
        return y.to(x.dtype).reshape(*x.shape[:-1], -1)

    def decode_bytes(self) -> int:
        # One layout is read per step (the kernel's or ours): both are N*K/2 bytes.
        return self.packed.numel() + self.scale_zero.numel() * self.scale_zero.element_size()
