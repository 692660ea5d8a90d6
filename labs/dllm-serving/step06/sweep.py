"""Steps vs quality: decode the same problems with fewer and fewer denoising steps.

With `steps` steps an answer of n tokens commits about n/steps tokens per forward pass, each
chosen from its own marginal without seeing the others chosen in the same step. Fewer steps
means fewer forward passes (faster) and more tokens decided together (more mixed answers).
A step count above n is capped at n: one token per step is as slow as it gets.
"""
from __future__ import annotations

import time

from ar import solve
from decode import generate_diffusion, mdm_logits
from task import exact_match

STEP_COUNTS = (1, 2, 4, 8)


def decode_with(steps: int):
    """A `solve` generator that runs `steps` denoising steps (at most n) on a batch of one length."""
    return lambda model, prompts: generate_diffusion(mdm_logits(model), prompts, min(steps, prompts.shape[1]))


def forward_passes(problems: list[list[int]], steps: int) -> int:
    """Model calls `solve` makes: one batch per length, min(steps, n) passes per batch."""
    return sum(min(steps, n) for n in {len(p) for p in problems})


def measure(model, problems: list[list[int]], steps: int) -> dict:
    """Exact match and the wall time of one decode of every problem with `steps` steps."""
    t0 = time.perf_counter()
    outputs = solve(model, problems, decode_with(steps))
    seconds = time.perf_counter() - t0
    tokens = sum(len(p) for p in problems)
    return dict(steps=steps, exact_match=exact_match(problems, outputs), seconds=seconds,
                tokens_per_s=tokens / seconds, forward_passes=forward_passes(problems, steps))
