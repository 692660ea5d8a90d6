"""Serving canvases of different lengths in one batch, and the compute each generated token costs.

Requests of different lengths go into one batch by padding every canvas to the longest with PAD
and hiding the PAD keys from every query. Each row keeps its own schedule; a step runs the whole
padded batch, so a row's answer is exactly the one it gets alone (only rounding differs).

Compute per generated token, counted in positions the model runs (each costs the same FLOPs):
  AR with a KV cache     prefill (n+1) + decode (n-1)          -> (2n)/n = 2 per token
  canvas, S steps        S passes over the whole canvas (2n+1) -> S(2n+1)/n per token
and padding adds (T_max - T) positions per row per step on top of that.
"""
from __future__ import annotations

import torch

from decode import pick, schedule
from model import positions
from task import MASK, PAD, SEP


def pad_canvases(prompts: list[list[int]]):
    """Canvases (prompt, SEP, n MASKs) right-padded with PAD: tokens (B, T_max) and key mask (B, T_max, T_max)."""
    T = max(2 * len(p) + 1 for p in prompts)
    rows = [p + [SEP] + [MASK] * len(p) + [PAD] * (T - 2 * len(p) - 1) for p in prompts]
    x = torch.tensor(rows)
    real = x != PAD
    allowed = real[:, None, :].expand(-1, T, T).clone()
    allowed |= torch.eye(T, dtype=torch.bool)           # a PAD query sees itself: no empty softmax row
    return x, allowed


@torch.no_grad()
def generate_canvas_batch(model, prompts: list[list[int]], steps: int, counts: list | None = None) -> list[list[int]]:
    """Confidence decoding of mixed-length prompts in one padded batch, `steps` steps (at most n per row)."""
    x, allowed = pad_canvases(prompts)
    B, T = x.shape
    plans = [schedule(len(p), min(steps, len(p))) for p in prompts]
    answer = torch.zeros(B, T, dtype=torch.bool)
    for b, p in enumerate(prompts):
        answer[b, len(p) + 1:2 * len(p) + 1] = True
    for s in range(max(len(plan) for plan in plans)):
        logits, _ = model(x, positions(T, B), allowed)
        if counts is not None:
            counts.append(B * T)
        probs = logits.masked_fill(torch.arange(logits.shape[-1]) == MASK, float("-inf")).softmax(-1)
        for b, plan in enumerate(plans):              # each row commits its own number of tokens
            if s >= len(plan):
                continue
            cols = answer[b].nonzero().flatten()
            row = x[b:b + 1, cols]
            chosen = pick(probs[b:b + 1, cols], row == MASK, plan[s], "confidence")
            x[b, cols] = torch.where(chosen, probs[b:b + 1, cols].argmax(-1), row)[0]
    return [x[b, answer[b]].tolist() for b in range(B)]


def positions_per_token_ar(n: int) -> float:
    return (n + 1 + n - 1) / n


def positions_per_token_canvas(n: int, steps: int) -> float:
    return min(steps, n) * (2 * n + 1) / n
