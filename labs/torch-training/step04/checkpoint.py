"""Save and restore everything a training run's future depends on, for an exact resume.

The weights are not enough. The next steps also read:
- the optimizer state (AdamW's m, v and step count t),
- the batch generator's state (which windows come next),
- the global torch RNG (anything else random; nothing draws from it today, but a
  dropout layer added later would, and a resume must not silently change it),
- the step number (the learning-rate schedule is a pure function of it, so it
  needs no state of its own) and the history so far.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch


def save_checkpoint(path: str | Path, step: int, model, optimizer, batches: torch.Generator,
                    history: dict, config: dict) -> None:
    state = {
        "step": step,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "batch_rng": batches.get_state(),
        "torch_rng": torch.get_rng_state(),
        "history": history,
        "config": config,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: a crash while saving leaves the previous checkpoint intact


def load_checkpoint(path: str | Path, model, optimizer, batches: torch.Generator) -> tuple[int, dict, dict]:
    """Restore model, optimizer and RNG states in place; return (step, history, config)."""
    state = torch.load(path, weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    batches.set_state(state["batch_rng"])
    torch.set_rng_state(state["torch_rng"])
    return state["step"], state["history"], state["config"]
