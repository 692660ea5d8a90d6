"""N steps of plain SGD, single-process (the reference) and the bookkeeping to compare a parallel run with it."""
from __future__ import annotations

import torch

from model import Config, LanguageModel, batch


def reference_run(cfg: Config, batch_size: int, steps: int, lr: float, seed: int = 0):
    """Losses and full gradients of every step of a one-process run: ([loss], [{name: grad}])."""
    model = LanguageModel(cfg, seed)
    idx, targets = batch(cfg, batch_size)
    losses, grads = [], []
    for _ in range(steps):
        model.zero_grad()
        _, loss = model(idx, targets)
        loss.backward()
        losses.append(loss.item())
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()})
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
    return losses, grads


def shard_of(full: torch.Tensor, spec) -> torch.Tensor:
    """The piece of a full tensor that a rank holds: spec = (dim, parts, index), or None for all of it."""
    if spec is None:
        return full
    dim, parts, index = spec
    return full.chunk(parts, dim)[index]


def sgd_step(params, lr: float):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None


def local_grads(model) -> dict:
    """{full name: (spec, grad)} for every parameter this rank holds (spec says which piece it is)."""
    return {p.full_name: (p.spec, p.grad.clone()) for p in model.parameters()}


def grad_pairs(results: list[dict], ref_grads: list[dict]):
    """(step, name, rank's piece, the same piece of the reference gradient) for every rank and step."""
    out = []
    for res in results:
        for step, grads in enumerate(res["grads"]):
            for name, (spec, g) in grads.items():
                out.append((step, name, g, shard_of(ref_grads[step][name], spec)))
    return out
