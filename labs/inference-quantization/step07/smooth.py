"""Activation-aware scaling (the SmoothQuant idea) and W8A8: int8 weights and int8 activations.

A few input channels of a Linear carry activations far larger than the rest, so a
per-token int8 scale set by them rounds every other channel away. Dividing channel j
of the activation by s_j and multiplying column j of the weight by s_j changes nothing:

    y = x W^T = (x diag(1/s)) (W diag(s))^T

and the 1/s folds into the RMSNorm weight (or the up_proj rows) that produced x, so it is free
at run time. With s_j = amax_x[j]^alpha / amax_W[:, j]^(1 - alpha) both sides become easier to quantize.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from dlc_shared.data import token_ids
from quant import quantize_int8_per_channel


@torch.no_grad()
def activation_amax(model: nn.Module, windows: int = 8, split: str = "train") -> dict[nn.Module, torch.Tensor]:
    """max |x| per input channel of every nn.Linear, over `windows` calibration windows."""
    amax: dict[nn.Module, torch.Tensor] = {}

    def hook(mod, inputs, _out):
        a = inputs[0].detach().abs().flatten(0, -2).amax(dim=0).float()
        amax[mod] = torch.maximum(amax[mod], a) if mod in amax else a

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Linear)]
    block = model.cfg.block_size
    ids = torch.from_numpy(token_ids(split, model.cfg.vocab_size)[:windows * block].astype(np.int64))
    model(ids.view(windows, block))
    for h in handles:
        h.remove()
    return amax


def smooth_factors(act_amax: torch.Tensor, weights: list[torch.Tensor], alpha: float = 0.5) -> torch.Tensor:
    """s_j = amax_x[j]^alpha / amax_W[:, j]^(1-alpha) over every weight that reads x."""
    w_amax = torch.cat([w.detach().abs() for w in weights]).amax(dim=0).float()
    return (act_amax.clamp(min=1e-5) ** alpha / w_amax.clamp(min=1e-5) ** (1 - alpha)).clamp(min=1e-5)


@torch.no_grad()
def smooth_model(model: nn.Module, alpha: float = 0.5, windows: int = 8) -> nn.Module:
    """A copy of `model` with activation outliers migrated into the weights; its outputs are unchanged."""
    model = copy.deepcopy(model)
    amax = activation_amax(model, windows)
    model.lm_head.weight = nn.Parameter(model.lm_head.weight.clone())  # untie: only the lm_head gets scaled

    def migrate(norm_or_rows, linears, s):
        if isinstance(norm_or_rows, nn.Linear):
            norm_or_rows.weight.div_(s[:, None])   # up_proj: its output rows are down_proj's input channels
        else:
            norm_or_rows.weight.div_(s)            # RMSNorm: its weight scales each output channel
        for lin in linears:
            lin.weight.mul_(s)

    for blk in model.layers:
        att, mlp = blk.self_attn, blk.mlp
        qkv = [att.q_proj, att.k_proj, att.v_proj]
        migrate(blk.input_layernorm, qkv, smooth_factors(amax[att.q_proj], [l.weight for l in qkv], alpha))
        gu = [mlp.gate_proj, mlp.up_proj]
        migrate(blk.post_attention_layernorm, gu, smooth_factors(amax[mlp.gate_proj], [l.weight for l in gu], alpha))
        migrate(mlp.up_proj, [mlp.down_proj], smooth_factors(amax[mlp.down_proj], [mlp.down_proj.weight], alpha))
    migrate(model.norm, [model.lm_head], smooth_factors(amax[model.lm_head], [model.lm_head.weight], alpha))
    return model


def quantize_per_token(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Activations (M, K) -> int8 codes and one scale per row (token), computed on the fly."""
    scale = x.float().abs().amax(dim=1).clamp(min=1e-12) / 127
    return torch.round(x.float() / scale[:, None]).clamp(-127, 127).to(torch.int8), scale


class W8A8Linear(nn.Module):
    """int8 weights (per output channel) times int8 activations (per token), accumulated exactly in int32."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        q, scale = quantize_int8_per_channel(linear.weight.detach())
        self.register_buffer("q", q)
        self.register_buffer("scale", scale)

    def forward(self, x):
        qx, sx = quantize_per_token(x.reshape(-1, x.shape[-1]))
        acc = torch._int_mm(qx, self.q.T)  # int8 x int8 -> int32: every product and sum exact
        y = acc.float() * sx[:, None] * self.scale.float()[None, :]
        return y.to(x.dtype).reshape(*x.shape[:-1], -1)

    def decode_bytes(self) -> int:
        return self.q.numel() * self.q.element_size() + self.scale.numel() * self.scale.element_size()
