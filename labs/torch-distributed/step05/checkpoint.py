"""Checkpoints in a data-parallel run: rank 0 writes, every rank reads.

After each step every rank holds the same weights and the same AdamW state (same
averaged gradients, same updates), so one copy is the whole truth; several ranks
writing one file would only race. The batch order needs no saved state: the sampler
is a function of (seed, epoch) and the position in the epoch follows from the step.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.distributed as dist


def save_checkpoint(path: str | Path, step: int, model, optimizer, history: dict, rank: int) -> None:
    if rank == 0:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        torch.save({"step": step, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "history": history}, tmp)
        os.replace(tmp, path)  # atomic: a crash while saving leaves the previous checkpoint intact
    if dist.is_initialized():
        dist.barrier()  # nobody runs ahead (or dies) while the file is half written


def load_checkpoint(path: str | Path, model, optimizer) -> tuple[int, dict]:
    """Restore model and optimizer in place on every rank; return (step, history)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    return state["step"], state["history"]
