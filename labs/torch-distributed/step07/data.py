"""The data pipeline: corpus tokens -> fixed windows -> a DistributedSampler that deals them out to the ranks.

The corpus and its byte-level BPE tokenizer come from dlc_shared.data (built offline and cached).
"""
from __future__ import annotations

import itertools

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from dlc_shared.data import token_ids
from loss import inputs_and_targets


def load_split(split: str, vocab_size: int) -> torch.Tensor:
    """All token ids of one split as a 1-D int64 tensor (embedding lookups need int64)."""
    return torch.from_numpy(token_ids(split, vocab_size).astype(np.int64))


class Windows(Dataset):
    """Non-overlapping windows of block_size+1 tokens: item i starts at token i * block_size."""

    def __init__(self, data: torch.Tensor, block_size: int):
        self.data, self.block_size = data, block_size

    def __len__(self) -> int:
        return (len(self.data) - 1) // self.block_size

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.data[i * self.block_size:(i + 1) * self.block_size + 1]


def rank_batches(dataset: Dataset, batch_size: int, rank: int, world_size: int, seed: int, start_step: int = 1):
    """(x, y) for steps start_step, start_step+1, ...: this rank's batch_size / world_size windows each.

    DistributedSampler shuffles all indices with seed + epoch (the same order on every rank)
    and gives rank r the positions r, r + k, r + 2k, ...: the ranks' windows never overlap,
    and together, step by step, they are the windows one process would take with the global batch.
    """
    if batch_size % world_size:
        raise ValueError(f"global batch {batch_size} does not split evenly over {world_size} ranks")
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=seed,
                                 drop_last=True)
    loader = DataLoader(dataset, batch_size=batch_size // world_size, sampler=sampler, drop_last=True)
    per_epoch = len(loader)
    epoch, skip = divmod(start_step - 1, per_epoch)
    for epoch in itertools.count(epoch):
        sampler.set_epoch(epoch)  # a new shuffle each epoch; forgetting this repeats epoch 0's order
        for windows in itertools.islice(loader, skip, None):
            yield inputs_and_targets(windows)
        skip = 0
