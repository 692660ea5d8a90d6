"""Canvas decoding: start from an all-MASK answer and unmask a few tokens per step.

Every step runs the model on the whole canvas, then commits k of the still-masked positions
to their argmax token; the rest stay masked for the next step. Which k is the choice:
`confidence` takes the positions whose top probability is highest (LLaDA's low-confidence
remasking), `random` takes random ones, `left-to-right` the leftmost. A committed token is
never changed again, and
never MASK itself (its probability is set to zero). `steps` forward passes fill n tokens; the schedule spreads them evenly.
"""
from __future__ import annotations

import torch

from mdm import canvas, denoise
from task import MASK


def schedule(n: int, steps: int) -> list[int]:
    """How many tokens each of `steps` steps unmasks: n split as evenly as possible, larger first."""
    if not 1 <= steps <= n:
        raise ValueError(f"steps must be between 1 and the answer length {n}, got {steps}")
    base, extra = divmod(n, steps)
    return [base + (i < extra) for i in range(steps)]


def pick(probs: torch.Tensor, still_masked: torch.Tensor, k: int, order: str, gen=None) -> torch.Tensor:
    """(B, n) bool: the k positions per row to commit now, chosen among the still-masked ones."""
    B, n = still_masked.shape
    if order == "confidence":
        score = probs.max(-1).values
    elif order == "random":
        score = torch.rand(B, n, generator=gen)
    elif order == "left-to-right":
        score = -torch.arange(n, dtype=torch.float32).expand(B, n)
    else:
        raise ValueError(f"unknown order {order!r}")
    score = score.masked_fill(~still_masked, float("-inf"))
    chosen = torch.zeros(B, n, dtype=torch.bool)
    chosen.scatter_(1, score.topk(k, dim=1).indices, True)
    return chosen


def mdm_logits(model):
    """The masked-diffusion model as a denoiser: canvas (B, T), answer length n -> answer logits (B, n, V)."""
    return lambda x, n: denoise(model, x)[:, -n:]


@torch.no_grad()
def generate_diffusion(logits_fn, prompts: torch.Tensor, steps: int, order: str = "confidence",
                       seed: int = 0, trace: list | None = None) -> torch.Tensor:
    """prompts (B, n) -> answers (B, n) after `steps` denoising steps of the canvas."""
    B, n = prompts.shape
    x = canvas(prompts)
    gen = torch.Generator().manual_seed(seed)
    for k in schedule(n, steps):
        logits = logits_fn(x, n)                                 # (B, n, V): the whole canvas, every step
        probs = logits.masked_fill(torch.arange(logits.shape[-1]) == MASK, float("-inf")).softmax(-1)
        answer = x[:, -n:]
        chosen = pick(probs, answer == MASK, k, order, gen)
        x[:, -n:] = torch.where(chosen, probs.argmax(-1), answer)
        if trace is not None:
            trace.append(x[:, -n:].clone())
    return x[:, -n:]
