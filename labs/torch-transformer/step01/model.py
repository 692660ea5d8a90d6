"""A bigram language model: the next token's logits are looked up from the current token alone."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab_size: int = 2048
    block_size: int = 64     # the longest context the model is given (T <= block_size)


class LanguageModel(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        # Row i of this V x V table holds the logits of the token that follows token i.
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.vocab_size)
        # All-zero logits are the uniform distribution: the untrained loss is exactly ln V.
        nn.init.zeros_(self.token_embedding.weight)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        """idx (B, T) token ids -> logits (B, T, V); with targets (B, T) also the mean cross-entropy."""
        logits = self.token_embedding(idx)                       # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Append max_new_tokens tokens to idx (B, T), one at a time; temperature 0 is greedy (argmax)."""
        for _ in range(max_new_tokens):
            logits, _ = self(idx[:, -self.cfg.block_size:])      # the model never sees more than block_size
            logits = logits[:, -1, :]                             # only the last position predicts the next token
            if temperature == 0:
                next_id = logits.argmax(dim=-1, keepdim=True)
            else:
                probs = F.softmax(logits / temperature, dim=-1)
                next_id = torch.multinomial(probs, num_samples=1, generator=generator)
            idx = torch.cat([idx, next_id], dim=1)
        return idx
