"""Measure what autograd keeps for backward, with saved-tensor hooks.

Every op that needs one of its inputs or outputs in backward hands that tensor to
`torch.autograd.graph.saved_tensors_hooks`' pack hook during forward. Summing what
passes through that hook is the activation memory, with two corrections:
- a tensor saved by two ops (ReLU's output is also the next matmul's input) is one
  buffer in memory, so we count each storage once;
- parameters are saved too (the matmul keeps W to compute dh), but they live in
  memory anyway, so they are not activations.
"""
from __future__ import annotations

import torch
from torch.autograd.graph import saved_tensors_hooks


class SavedTensorMeter:
    """with SavedTensorMeter(params) as meter: forward...  then meter.bytes."""

    def __init__(self, params=()):
        self._params = {p.untyped_storage().data_ptr() for p in params}
        self.saved: dict[int, int] = {}  # storage address -> its size in bytes

    def _pack(self, t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in self._params:
            self.saved[storage.data_ptr()] = storage.nbytes()
        return t

    def __enter__(self) -> "SavedTensorMeter":
        self._hooks = saved_tensors_hooks(self._pack, lambda t: t)
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._hooks.__exit__(*exc)

    @property
    def bytes(self) -> int:
        return sum(self.saved.values())


def unique_bytes(tensors) -> int:
    """Bytes of a collection of tensors, each underlying storage once."""
    return sum({t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in tensors}.values())
