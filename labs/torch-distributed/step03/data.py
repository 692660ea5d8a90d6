"""The data pipeline: corpus tokens -> train split -> random global batches, and one rank's share of a batch.

The corpus and its byte-level BPE tokenizer come from dlc_shared.data (built offline and cached).
"""
from __future__ import annotations

import numpy as np
import torch

from dlc_shared.data import token_ids
from loss import inputs_and_targets


def load_split(split: str, vocab_size: int) -> torch.Tensor:
    """All token ids of one split as a 1-D int64 tensor (embedding lookups need int64)."""
    return torch.from_numpy(token_ids(split, vocab_size).astype(np.int64))


def get_batch(data: torch.Tensor, batch_size: int, block_size: int,
              generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """batch_size windows of block_size+1 tokens at random offsets -> (x, y), each (B, block_size)."""
    starts = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
    windows = torch.stack([data[s:s + block_size + 1] for s in starts.tolist()])
    return inputs_and_targets(windows)


def shard(batch: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Rank `rank`'s rows of a global batch: a contiguous block of B / world_size rows.

    Equal shares matter: the global loss is the mean over all B*T positions, which equals
    the mean of the ranks' means only when every rank holds the same number of rows.
    """
    if batch.shape[0] % world_size:
        raise ValueError(f"global batch {batch.shape[0]} does not split evenly over {world_size} ranks")
    per_rank = batch.shape[0] // world_size
    return batch[rank * per_rank:(rank + 1) * per_rank]
