"""Random (context, next-token) batches from a token array, a loss estimate, and a short AdamW loop."""
from __future__ import annotations

import numpy as np
import torch


def get_batch(data: np.ndarray, block_size: int, batch_size: int, generator: torch.Generator):
    """x = data[i : i+T], y = data[i+1 : i+T+1] for batch_size random offsets i: y is x shifted by one."""
    starts = torch.randint(len(data) - block_size, (batch_size,), generator=generator).tolist()
    x = np.stack([data[i:i + block_size] for i in starts]).astype(np.int64)
    y = np.stack([data[i + 1:i + 1 + block_size] for i in starts]).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


@torch.no_grad()
def estimate_loss(model, data: np.ndarray, batch_size: int, batches: int = 10, seed: int = 1234) -> float:
    """Mean loss over a fixed set of batches (the same seed gives the same batches before and after training)."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    losses = [model(*get_batch(data, model.cfg.block_size, batch_size, gen))[1].item() for _ in range(batches)]
    model.train()
    return float(np.mean(losses))


def train(model, data: np.ndarray, steps: int, batch_size: int, lr: float, seed: int = 0) -> list[float]:
    """Plain AdamW on random batches; returns the training loss of every step."""
    gen = torch.Generator().manual_seed(seed)
    # fused=True updates all parameters in one kernel: much faster than op-by-op on a CPU.
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0, fused=True)
    model.train()
    losses = []
    for _ in range(steps):
        x, y = get_batch(data, model.cfg.block_size, batch_size, gen)
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses
