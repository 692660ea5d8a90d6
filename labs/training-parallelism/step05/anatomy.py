"""One training step taken apart: the time of forward, backward and the optimizer step,
and the bytes of what lives through it (weights, gradients, optimizer state, activations).

Bytes are counted from the tensors themselves, each storage once (a view or a tied
weight is not counted twice). Activations are what autograd saves in the forward pass
for the backward pass: a saved_tensors_hooks pack hook sees each of them.
"""
from __future__ import annotations

import time

import torch

from dlc_shared.bench import median
from loss import next_token_loss


def tensor_bytes(tensors) -> int:
    """Bytes of the storages behind `tensors`, each storage counted once."""
    seen = {}
    for t in tensors:
        if t is not None:
            s = t.untyped_storage()
            seen[s.data_ptr()] = s.nbytes()
    return sum(seen.values())


def optimizer_state_tensors(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [v for state in optimizer.state.values() for v in state.values() if torch.is_tensor(v)]


def model_state_bytes(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, int]:
    """Weights, gradients and optimizer state, as they stand after a step."""
    params = list(model.parameters())
    return {"params": tensor_bytes(params),
            "grads": tensor_bytes(p.grad for p in params),
            "optimizer": tensor_bytes(optimizer_state_tensors(optimizer))}


def activation_bytes(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """Bytes autograd keeps from one forward pass for the backward pass, weights and buffers left out."""
    owned = {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers()]}
    saved = {}

    def pack(t):
        s = t.untyped_storage()
        if s.data_ptr() not in owned:
            saved[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = next_token_loss(model(x), y)
    del loss  # frees the graph and the saved tensors with it
    return sum(saved.values())


def time_phases(model, optimizer, x, y, repeat: int = 10, warmup: int = 2) -> dict[str, float]:
    """Median seconds of forward (to the loss), backward and optimizer.step over `repeat` steps."""
    samples = {"forward": [], "backward": [], "optimizer": []}
    for i in range(warmup + repeat):
        t0 = time.perf_counter()
        loss = next_token_loss(model(x), y)
        t1 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        optimizer.step()
        t3 = time.perf_counter()
        if i >= warmup:
            for name, dt in zip(samples, (t1 - t0, t2 - t1, t3 - t2)):
                samples[name].append(dt)
    return {name: median(s) for name, s in samples.items()}
