"""Greedy autoregressive decoding of the answer, with and without a KV cache.

Without a cache every step runs the whole sequence again. With one, the prompt runs once
(prefill) and each later step runs one new token against the stored keys and values (decode):
causal attention means earlier positions never change, so the stored values are exact.
"""
from __future__ import annotations

import torch

from model import causal_mask, positions
from task import SEP


def with_sep(prompts: torch.Tensor) -> torch.Tensor:
    return torch.cat([prompts, torch.full((prompts.shape[0], 1), SEP)], dim=1)


@torch.no_grad()
def generate_ar_nocache(model, prompts: torch.Tensor) -> torch.Tensor:
    """prompts (B, n) of one length n -> the n answer tokens (B, n); the whole sequence runs each step."""
    B, n = prompts.shape
    x = with_sep(prompts)
    for _ in range(n):
        T = x.shape[1]
        logits, _ = model(x, positions(T, B), causal_mask(T, B))
        x = torch.cat([x, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    return x[:, n + 1:]


@torch.no_grad()
def generate_ar(model, prompts: torch.Tensor) -> torch.Tensor:
    """Same tokens as generate_ar_nocache: prefill the prompt once, then one token per step."""
    B, n = prompts.shape
    x = with_sep(prompts)
    T = x.shape[1]
    logits, past = model(x, positions(T, B), causal_mask(T, B))           # prefill
    out = [logits[:, -1].argmax(-1)]
    for i in range(n - 1):                                               # decode
        pos = torch.full((B, 1), T + i)
        allowed = torch.ones(B, 1, T + i + 1, dtype=torch.bool)          # the new token sees everything
        logits, new = model(out[-1][:, None], pos, allowed, past)
        past = [(torch.cat([pk, k], dim=2), torch.cat([pv, v], dim=2)) for (pk, pv), (k, v) in zip(past, new)]
        out.append(logits[:, -1].argmax(-1))
    return torch.stack(out, dim=1)


def solve(model, problems: list[list[int]], generate=generate_ar) -> list[list[int]]:
    """Answers for prompts of mixed lengths: one batch per length, results in the original order."""
    outputs: list = [None] * len(problems)
    for n in sorted({len(p) for p in problems}):
        idx = [i for i, p in enumerate(problems) if len(p) == n]
        answers = generate(model, torch.tensor([problems[i] for i in idx]))
        for i, a in zip(idx, answers.tolist()):
            outputs[i] = a
    return outputs
