"""Checkpoints of a sharded model: every rank helps gather the full state, rank 0 writes it.

With FSDP no rank holds the whole model: get_state_dict(full_state_dict=True) all-gathers
every weight and AdamW state into full tensors (on rank 0's CPU), so the file is the same
as one process would write and loads into any world size. On resume each rank reads the
file and keeps its own rows (set_state_dict). The batch order needs no saved state: the
sampler is a function of (seed, epoch) and the position in the epoch follows from the step.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.distributed as dist
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict, set_state_dict

FULL = StateDictOptions(full_state_dict=True, cpu_offload=True)


def save_checkpoint(path: str | Path, step: int, model, optimizer, history: dict, rank: int) -> None:
    model_state, optim_state = get_state_dict(model, optimizer, options=FULL)  # collective: every rank calls it
    if rank == 0:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        torch.save({"step": step, "model": model_state, "optimizer": optim_state, "history": history}, tmp)
        os.replace(tmp, path)  # atomic: a crash while saving leaves the previous checkpoint intact
    if dist.is_initialized():
        dist.barrier()  # nobody runs ahead (or dies) while the file is half written


def load_checkpoint(path: str | Path, model, optimizer) -> tuple[int, dict]:
    """Restore model and optimizer in place on every rank (each keeps its shard); return (step, history)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    set_state_dict(model, optimizer, model_state_dict=state["model"], optim_state_dict=state["optimizer"],
                   options=StateDictOptions(full_state_dict=True))
    return state["step"], state["history"]
