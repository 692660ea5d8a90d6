"""What training keeps besides activations: gradients and optimizer state, per parameter.

Per parameter, in bytes (fp32 = 4 bytes, bf16 = 2):
    SGD                      weight 4 + grad 4                        =  8
    SGD with momentum        weight 4 + grad 4 + velocity 4           = 12
    Adam                     weight 4 + grad 4 + m 4 + v 4            = 16
    mixed precision + Adam   bf16 weight 2 + bf16 grad 2
                             + fp32 master weight 4 + m 4 + v 4       = 16
The optimizers here are torch.optim's; we measure what they allocate.
"""
from __future__ import annotations

import torch

from memory import unique_bytes

OPTIMIZERS = ("sgd", "momentum", "adam", "mixed-adam")
# formula: bytes per parameter of (weights, grads, optimizer state)
BYTES_PER_PARAM = {"sgd": (4, 4, 0), "momentum": (4, 4, 4), "adam": (4, 4, 8), "mixed-adam": (2, 2, 12)}


def make_optimizer(name: str, params: list[torch.Tensor], lr: float = 1e-3):
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "mixed-adam":
        return MixedPrecisionAdam(params, lr=lr)
    raise ValueError(f"unknown optimizer '{name}'; known: {', '.join(OPTIMIZERS)}")


class MixedPrecisionAdam:
    """Adam for bf16 weights: forward and backward run in bf16, the update in fp32.

    A bf16 weight has 8 significant bits, so an update smaller than weight/256 would
    round away. The optimizer therefore keeps an fp32 master copy of every weight,
    applies Adam to it, and copies the result back into the bf16 weight.
    """

    def __init__(self, params: list[torch.Tensor], lr: float = 1e-3):
        self.params = params
        self.master = [p.detach().float().clone().requires_grad_() for p in params]
        self.adam = torch.optim.Adam(self.master, lr=lr)

    def step(self) -> None:
        for p, m in zip(self.params, self.master):
            m.grad = p.grad.float()  # a temporary fp32 copy, freed right after the update
        self.adam.step()
        with torch.no_grad():
            for p, m in zip(self.params, self.master):
                p.copy_(m)  # round the fp32 master back to bf16 for the next forward
                m.grad = None

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def state_tensors(self) -> list[torch.Tensor]:
        return self.master + state_tensors(self.adam)


def state_tensors(optimizer) -> list[torch.Tensor]:
    """Every tensor an optimizer keeps between steps (momentum buffers, Adam's m and v, step counters)."""
    if isinstance(optimizer, MixedPrecisionAdam):
        return optimizer.state_tensors()
    return [v for state in optimizer.state.values() for v in state.values() if isinstance(v, torch.Tensor)]


def measured_bytes(params: list[torch.Tensor], optimizer) -> dict[str, int]:
    """Weights, gradients and optimizer state as allocated, each storage once."""
    return {"weights": unique_bytes(params),
            "grads": unique_bytes(p.grad for p in params if p.grad is not None),
            "optimizer": unique_bytes(state_tensors(optimizer))}


def formula_bytes(n_params: int, name: str) -> dict[str, int]:
    weights, grads, state = BYTES_PER_PARAM[name]
    return {"weights": weights * n_params, "grads": grads * n_params, "optimizer": state * n_params}
