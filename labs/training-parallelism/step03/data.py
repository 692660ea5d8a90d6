"""Batches every process can rebuild on its own: step t's global batch is a function of (seed, t).

The tokens follow a fixed random successor table (a Markov chain): after token a
comes succ[a] with probability 0.9, else a uniformly random token. The model can
learn the table, so the loss falls quickly from ln V, yet nothing is read from
disk. Data parallelism splits the global batch along its first axis: rank r of k
takes rows r*B/k .. (r+1)*B/k - 1.
"""
from __future__ import annotations

import torch

from loss import inputs_and_targets

FOLLOW = 0.9  # probability that a token is followed by its table successor


def global_batch(step: int, batch_size: int, block_size: int, vocab_size: int,
                 seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole batch of optimizer step `step`: (x, y), each (batch_size, block_size), int64."""
    succ = torch.randperm(vocab_size, generator=torch.Generator().manual_seed(seed))  # same every step
    g = torch.Generator().manual_seed(1_000_003 * (seed + 1) + step)
    tokens = torch.empty(batch_size, block_size + 1, dtype=torch.long)
    tokens[:, 0] = torch.randint(vocab_size, (batch_size,), generator=g)
    noise = torch.randint(vocab_size, (batch_size, block_size), generator=g)
    keep = torch.rand(batch_size, block_size, generator=g) < FOLLOW
    for t in range(block_size):
        tokens[:, t + 1] = torch.where(keep[:, t], succ[tokens[:, t]], noise[:, t])
    return inputs_and_targets(tokens)


def shard(batch: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """This rank's rows of a global batch; the batch must split evenly."""
    if batch.shape[0] % world_size:
        raise ValueError(f"a batch of {batch.shape[0]} does not split evenly over {world_size} ranks")
    n = batch.shape[0] // world_size
    return batch[rank * n:(rank + 1) * n]
