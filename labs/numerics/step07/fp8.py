"""FP8 scaling: fit a tensor into E4M3's narrow range with a per-tensor scale, now or from history.

E4M3 holds magnitudes from 2^-9 to 448 with 3 mantissa bits. A tensor is multiplied by
scale = 448 / amax before the cast, so its largest element lands at the top of the range and small
ones stay out of the subnormals; a matmul of two scaled tensors is multiplied back by
1 / (scale_a * scale_b). Current scaling needs amax before the cast (one more pass over the tensor);
delayed scaling (Transformer Engine's recipe) takes the largest amax of the last few steps instead and
records the current one for later, so a tensor that grows faster than its history saturates at 448.
"""
from __future__ import annotations

import torch

E4M3 = torch.float8_e4m3fn
E4M3_MAX = torch.finfo(E4M3).max  # 448


def amax_scale(amax: float, fmt_max: float = E4M3_MAX, margin: int = 0) -> float:
    """The scale that maps amax to fmt_max / 2^margin (1.0 for an all-zero tensor)."""
    return fmt_max / amax / 2.0 ** margin if amax > 0 else 1.0


def quantize_fp8(x: torch.Tensor, scale: float, dtype: torch.dtype = E4M3) -> torch.Tensor:
    """Cast x * scale to FP8, saturating at the format's max: the cast of larger values is saturating on
    some back ends and NaN on others, so the clamp makes the behaviour the same everywhere."""
    top = torch.finfo(dtype).max
    return (x.float() * scale).clamp(-top, top).to(dtype)


def dequantize_fp8(q: torch.Tensor, scale: float) -> torch.Tensor:
    return q.float() / scale


def fp8_matmul_emulated(a_q: torch.Tensor, b_q: torch.Tensor, scale_a: float, scale_b: float) -> torch.Tensor:
    """FP8 matmul as the hardware does it: exact products (two 4-bit significands need 8 bits), float32 sums,
    then one multiply by 1 / (scale_a * scale_b)."""
    return (a_q.float() @ b_q.float()) * (1.0 / (scale_a * scale_b))


def fp8_matmul_scaled_mm(a_q: torch.Tensor, b_q: torch.Tensor, scale_a: float, scale_b: float) -> torch.Tensor:
    """The same through torch._scaled_mm (FP8 tensor cores on sm89+; a CPU kernel in recent PyTorch).
    It takes the dequantization factors 1/scale and wants b column-major."""
    inv = lambda s: torch.tensor(1.0 / s, dtype=torch.float32, device=a_q.device)  # noqa: E731
    return torch._scaled_mm(a_q, b_q.t().contiguous().t(), scale_a=inv(scale_a), scale_b=inv(scale_b),
                            out_dtype=torch.float32)


class DelayedScaling:
    """Scale from the largest amax of the last `history_len` steps; the current amax only joins the history."""

    def __init__(self, history_len: int = 4, margin: int = 0):
        self.history_len, self.margin = history_len, margin
        self.history: list[float] = []

    def scale(self) -> float:
        return amax_scale(max(self.history), margin=self.margin) if self.history else 1.0

    def quantize(self, x: torch.Tensor) -> tuple[torch.Tensor, float]:
        scale = self.scale()
        self.history = (self.history + [x.abs().max().item()])[-self.history_len:]
        return quantize_fp8(x, scale), scale
