"""The task: sort a list of digits, ascending or descending. Two answers are right; both are checked exactly.

A problem is n digits (MIN_N <= n <= MAX_N); an answer is the same digits in ascending or in
descending order, and the training data holds both, half and half. The sequence a model sees is
the prompt, a separator, then the n answer tokens:

    3 1 4 1 5 | 1 1 3 4 5        or        3 1 4 1 5 | 5 4 3 1 1

Two right answers is the point: a model that picks every answer token on its own may take some
tokens from one order and some from the other. The answer length is known from the prompt.

The vocabulary holds the ten digits and three special tokens. MASK is the blank that a
diffusion model fills in; the autoregressive model never sees it, but both models share one
vocabulary so that they are the same size.
"""
from __future__ import annotations

import torch

SEP, MASK, PAD = 10, 11, 12
VOCAB = 13
MIN_N, MAX_N = 4, 8


def make_batch(gen: torch.Generator, batch: int, n: int) -> torch.Tensor:
    """`batch` random problems of n digits with an answer each: (batch, 2n+1) tokens."""
    prompt = torch.randint(0, 10, (batch, n), generator=gen)
    descending = torch.rand(batch, 1, generator=gen) < 0.5
    up = prompt.sort(dim=1).values
    answer = torch.where(descending, up.flip(1), up)
    return torch.cat([prompt, torch.full((batch, 1), SEP), answer], dim=1)


def eval_problems(count: int = 500, seed: int = 1234) -> list[list[int]]:
    """A fixed set of test prompts, lengths MIN_N..MAX_N in turn (drawn apart from any training seed)."""
    gen = torch.Generator().manual_seed(seed)
    sizes = [MIN_N + i % (MAX_N - MIN_N + 1) for i in range(count)]
    return [torch.randint(0, 10, (n,), generator=gen).tolist() for n in sizes]


def is_right(prompt: list[int], output: list[int]) -> bool:
    return output in (sorted(prompt), sorted(prompt, reverse=True))


def exact_match(prompts: list[list[int]], outputs: list[list[int]]) -> float:
    """The fraction of outputs that are one of the two right answers, token for token."""
    return sum(is_right(p, out) for p, out in zip(prompts, outputs)) / len(prompts)
