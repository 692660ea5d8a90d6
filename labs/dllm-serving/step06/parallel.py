"""Parallel decoding with a confidence threshold (Fast-dLLM): commit every token the model is sure of.

A fixed schedule commits k tokens a step whatever the model thinks. With a threshold the step
commits every still-masked position whose top probability is at least `threshold`, so an easy
stretch goes in one step and a hard choice waits for more context. At least one token is
committed each step (the most confident), so decoding always finishes, in at most n steps.
"""
from __future__ import annotations

import torch


def pick_threshold(probs: torch.Tensor, still_masked: torch.Tensor, threshold: float) -> torch.Tensor:
    """(B, n) bool: the masked positions with confidence >= threshold, or the top one if there are none."""
    conf = probs.max(-1).values.masked_fill(~still_masked, -1.0)
    chosen = (conf >= threshold) & still_masked
    top = torch.zeros_like(chosen)
    top.scatter_(1, conf.argmax(1, keepdim=True), True)
    needs_one = still_masked.any(1, keepdim=True) & ~chosen.any(1, keepdim=True)
    return chosen | (top & needs_one)
