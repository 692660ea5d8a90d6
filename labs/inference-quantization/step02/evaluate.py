"""Perplexity on the held-out split: exp of the mean next-token loss over fixed windows."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from dlc_shared.data import token_ids
from model import Llama


@torch.no_grad()
def perplexity(model: Llama, windows: int = 64, split: str = "val", new_cache=None) -> float:
    """exp(mean loss) over the first `windows` block-long windows of `split` (the same tokens every call).

    `new_cache(model, batch, length)`, if given, makes the cache the windows are run through
    (a quantized cache changes what attention reads back).
    """
    block = model.cfg.block_size
    ids = torch.from_numpy(token_ids(split, model.cfg.vocab_size)[:windows * block + 1].astype(np.int64))
    if len(ids) < windows * block + 1:
        raise ValueError(f"the {split} split has fewer than {windows} windows of {block} tokens")
    x = ids[:-1].view(windows, block)
    y = ids[1:].view(windows, block)
    cache = new_cache(model, windows, block) if new_cache else None
    logits = model(x, cache)
    return math.exp(F.cross_entropy(logits.float().flatten(0, 1), y.flatten()).item())
