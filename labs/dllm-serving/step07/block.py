"""Block (semi-autoregressive) diffusion: fill the answer block by block, left to right, with a prefix KV cache.

Inside a block the decoder unmasks by confidence as before; a block is finished before the next
one starts. The prompt and the finished blocks form a prefix that no longer changes, so their
keys and values can be kept, and each later step runs only the positions after the prefix.

Whether the kept values are exact depends on the attention pattern:
- block-causal attention (a position sees its own block and earlier ones): a prefix position
  never sees what comes after it, so its keys and values are the ones a full forward computes.
  The cache is exact, like an AR KV cache.
- full attention (the model trained in step 2): a prefix position also sees the current block,
  whose tokens change at every step. Keeping its keys and values from the block's first step is
  an approximation (Fast-dLLM's prefix cache); `drift` records how far the logits move from the
  uncached ones.
"""
from __future__ import annotations

import itertools

import torch

from decode import pick, schedule
from mdm import canvas
from model import full_mask, positions
from parallel import pick_threshold
from task import MASK


def block_causal_mask(n: int, block: int, batch: int = 1) -> torch.Tensor:
    """(batch, T, T), T = 2n+1: the prompt and separator are block 0, then answer blocks of `block` tokens."""
    T = 2 * n + 1
    idx = torch.arange(T)
    blk = torch.where(idx <= n, 0, (idx - n - 1) // block + 1)
    return (blk[None, :] <= blk[:, None]).expand(batch, T, T)


@torch.no_grad()
def generate_block(model, prompts: torch.Tensor, block: int = 4, cache: bool = False, attention: str = "full",
                   drift: list | None = None, counts: list | None = None,
                   threshold: float | None = None) -> torch.Tensor:
    """prompts (B, n) -> answers (B, n), one token per step, block by block.

    threshold: instead of one token per step, commit every masked token of the block whose
    confidence is at least `threshold` (and the most confident one if none is): parallel decoding.
    cache: keep the prefix's keys and values from the first step of each block.
    drift: if a list, gets (for cached steps) the max |logit difference| to the uncached forward.
    counts: if a list, gets the number of positions each forward pass computes (per row)."""
    B, n = prompts.shape
    x = canvas(prompts)
    T, P = x.shape[1], n + 1
    allowed = full_mask(T, B) if attention == "full" else block_causal_mask(n, block, B)
    pos = positions(T, B)
    for b0 in range(0, n, block):
        lo, hi = P + b0, P + min(b0 + block, n)
        # with block-causal attention nothing after the block matters; with full attention the rest is read
        end = hi if (cache and attention == "block") else T
        past = None                              # the previous block just joined the prefix: refresh
        steps = schedule(hi - lo, hi - lo) if threshold is None else itertools.repeat(0)  # until the block is full
        for k in steps:
            if threshold is not None and not (x[:, lo:hi] == MASK).any():
                break
            if past is None:                     # no cache, or the block's first step: run from position 0
                logits, kv = model(x[:, :end], pos[:, :end], allowed[:, :end, :end])
                start = 0
                if cache:
                    past = [(k_[:, :, :lo], v_[:, :, :lo]) for k_, v_ in kv]
            else:                                # later steps: only the positions after the prefix
                logits, _ = model(x[:, lo:end], pos[:, lo:end], allowed[:, lo:end, :end], past)
                start = lo
                if drift is not None:
                    fresh, _ = model(x[:, :end], pos[:, :end], allowed[:, :end, :end])
                    drift.append(float((logits - fresh[:, lo:]).abs().max()))
            if counts is not None:
                counts.append(end - start)
            block_logits = logits[:, lo - start:hi - start]
            probs = block_logits.masked_fill(torch.arange(block_logits.shape[-1]) == MASK, float("-inf")).softmax(-1)
            current = x[:, lo:hi]
            if threshold is None:
                chosen = pick(probs, current == MASK, k, "confidence")
            else:
                chosen = pick_threshold(probs, current == MASK, threshold)
            x[:, lo:hi] = torch.where(chosen, probs.argmax(-1), current)
    return x[:, P:]
