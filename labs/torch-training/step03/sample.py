"""Text from the model: feed the tokens so far, draw the next one, append, repeat."""
from __future__ import annotations

import torch


@torch.no_grad()
def sample(model, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
           top_k: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Extend (B, T) token ids by max_new_tokens; temperature 0 means greedy (argmax).

    Without a KV cache every step re-runs the whole (cropped) context: simple, and
    fast enough for a few hundred tokens from this small model.
    """
    model.eval()
    for _ in range(max_new_tokens):
        context = idx[:, -model.cfg.block_size:]
        logits = model(context)[:, -1, :].float()
        if temperature == 0:
            next_id = logits.argmax(-1, keepdim=True)
        else:
            logits = logits / temperature  # <1 sharpens the distribution, >1 flattens it
            if top_k is not None:
                kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            next_id = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)
        idx = torch.cat([idx, next_id], dim=1)
    model.train()
    return idx
