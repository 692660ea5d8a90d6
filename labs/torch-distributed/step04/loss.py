"""Next-token loss: every position predicts the token one step to its right."""
from __future__ import annotations

import torch


def inputs_and_targets(tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A (B, T+1) window of tokens -> inputs (B, T) and targets (B, T), shifted by one."""
    return tokens[:, :-1], tokens[:, 1:]


def next_token_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy -log softmax(logits)[target] over all B*T positions.

    Written out as logsumexp - logit[target] (what F.cross_entropy computes):
    logsumexp subtracts the row maximum first, so large logits do not overflow.
    """
    # 16-bit logits (later steps use autocast) are widened: the sum over V needs fp32.
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
    log_norm = torch.logsumexp(logits, dim=-1)                           # (B, T)
    target_logit = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (B, T)
    return (log_norm - target_logit).mean()
