"""Measure what autograd keeps for backward, with saved-tensor hooks.

Every op that needs one of its inputs or outputs in backward hands that tensor to
`torch.autograd.graph.saved_tensors_hooks`' pack hook during forward. Summing what
passes through that hook is the activation memory, with two corrections:
- a tensor saved by two ops (ReLU's output is also the next matmul's input) is one
  buffer in memory, so we count each storage once;
- parameters are saved too (the matmul keeps W to compute dh), but they live in
  memory anyway, so they are not activations.
Backward frees each op's saved tensors right after using them. To follow the
memory through backward as well, the pack hook wraps every tensor in a small
receipt; when autograd drops the receipt, the storage stops counting. `live` is
what is held now, `peak` the most ever held at once.
"""
from __future__ import annotations

import torch
from torch.autograd.graph import saved_tensors_hooks


class _Receipt:
    """What autograd stores instead of a saved tensor; it tells the meter when it is dropped."""

    def __init__(self, meter: "SavedTensorMeter", tensor: torch.Tensor, key: int):
        self.meter, self.tensor, self.key = meter, tensor, key

    def __del__(self):
        self.meter._release(self.key)


class SavedTensorMeter:
    """with SavedTensorMeter(params) as meter: forward... backward...  then meter.bytes, meter.peak."""

    def __init__(self, params=()):
        self._params = {p.untyped_storage().data_ptr() for p in params}
        self.saved: dict[int, int] = {}  # storage address -> its size in bytes
        self._holders: dict[int, int] = {}  # storage address -> receipts alive for it
        self.live = self.peak = 0

    def _pack(self, t: torch.Tensor):
        storage = t.untyped_storage()
        key = storage.data_ptr()
        if key in self._params:
            return t
        self.saved[key] = storage.nbytes()
        if self._holders.get(key, 0) == 0:
            self.live += storage.nbytes()
            self.peak = max(self.peak, self.live)
        self._holders[key] = self._holders.get(key, 0) + 1
        return _Receipt(self, t, key)

    def _release(self, key: int) -> None:
        self._holders[key] -= 1
        if self._holders[key] == 0:
            self.live -= self.saved[key]

    @staticmethod
    def _unpack(saved):
        return saved.tensor if isinstance(saved, _Receipt) else saved

    def __enter__(self) -> "SavedTensorMeter":
        self._hooks = saved_tensors_hooks(self._pack, self._unpack)
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
