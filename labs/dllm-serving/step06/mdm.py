"""A masked-diffusion language model (LLaDA-style): the forward process masks, the model unmasks.

Forward process: draw a mask ratio t in (0, 1] and replace each answer token by MASK with
probability t (the prompt stays clean). The model sees the whole sequence with a full
(bidirectional) mask and predicts every masked token at once. The loss is the cross-entropy on
the masked tokens weighted by 1/t, averaged over the answer tokens: an upper bound on the
negative log-likelihood of the answer (LLaDA, eq. 3 and its SFT form).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from model import full_mask, positions
from task import MASK, SEP

T_MIN = 1e-3   # keeps 1/t finite


def sample_ratios(gen: torch.Generator, batch: int) -> torch.Tensor:
    """One mask ratio per example, spread evenly over (T_MIN, 1]: a shifted grid (less variance than i.i.d.)."""
    u = (torch.rand(1, generator=gen) + torch.arange(batch) / batch) % 1.0
    return (T_MIN + (1 - T_MIN) * u)[:, None]                   # (batch, 1)


def mask_answer(x: torch.Tensor, start: int, t: torch.Tensor, gen: torch.Generator):
    """Mask each token of x[:, start:] with probability t (per row). Returns (noisy x, masked (B, n))."""
    masked = torch.rand(x.shape[0], x.shape[1] - start, generator=gen) < t
    noisy = x.clone()
    noisy[:, start:] = x[:, start:].masked_fill(masked, MASK)
    return noisy, masked


def mdm_loss(logits: torch.Tensor, target: torch.Tensor, masked: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """logits (B, n, V), target (B, n), masked (B, n), t (B, 1): sum of CE/t over masked tokens / (B n)."""
    ce = F.cross_entropy(logits.flatten(0, 1), target.flatten(), reduction="none").view_as(target)
    return (ce * masked / t).sum() / target.numel()


@torch.no_grad()
def denoise(model, x: torch.Tensor) -> torch.Tensor:
    """Logits at every position of x (B, T), every position seeing every other (full mask)."""
    B, T = x.shape
    return model(x, positions(T, B), full_mask(T, B))[0]


def canvas(prompts: torch.Tensor) -> torch.Tensor:
    """prompts (B, n) -> (B, 2n+1): the prompt, the separator and n MASK tokens."""
    B, n = prompts.shape
    return torch.cat([prompts, torch.full((B, 1), SEP), torch.full((B, n), MASK)], dim=1)
