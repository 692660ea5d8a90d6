"""The data pipeline: corpus -> tokens -> train/val splits -> random (x, y) batches.

The corpus and its byte-level BPE tokenizer come from dlc_shared.data (the
sources of a pinned pure-Python package, SymPy, built offline and cached).
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
    """batch_size windows of block_size+1 tokens at random offsets -> (x, y), each (B, block_size).

    Sampling offsets (instead of walking the corpus in order) makes every batch a
    fresh mix of files; the generator makes the sequence of batches reproducible.
    """
    starts = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
    windows = torch.stack([data[s:s + block_size + 1] for s in starts.tolist()])
    return inputs_and_targets(windows)


def eval_batches(data: torch.Tensor, batch_size: int, block_size: int, max_batches: int):
    """The same fixed, non-overlapping windows from the start of `data` every time it is called."""
    n_windows = min((len(data) - 1) // block_size, batch_size * max_batches)
    for first in range(0, n_windows, batch_size):
        starts = range(first * block_size, min(first + batch_size, n_windows) * block_size, block_size)
        windows = torch.stack([data[s:s + block_size + 1] for s in starts])
        yield inputs_and_targets(windows)


def unigram_cross_entropy(train: torch.Tensor, val: torch.Tensor, vocab_size: int) -> float:
    """Loss (nats/token) on val of a model that ignores context: token frequencies counted on train.

    Add-one smoothing keeps a token never seen in train from costing infinity.
    A language model is only learning context once its val loss is below this.
    """
    counts = torch.bincount(train, minlength=vocab_size).double() + 1
    log_p = (counts / counts.sum()).log()
    return -log_p[val].mean().item()
