"""Shape trace: one row per tensor a forward pass makes (name, shape, dtype, parameters, FLOPs).

Modules call `record(...)` on the tensors they make; nothing is kept unless a
`ShapeTrace` is active, so the model runs the same with or without a trace.
FLOPs count matrix multiplications only (2 per multiply-add), the same rule as
torch.utils.flop_counter; lookups and elementwise ops show as 0.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import torch
from tabulate import tabulate

_active: list["ShapeTrace"] = []  # traces being recorded, innermost last
_scopes: list[str] = []  # name prefixes, e.g. ["layers.0", "attn"]


@dataclass
class Row:
    name: str
    shape: tuple[int, ...]
    dtype: str
    params: int
    flops: int


class ShapeTrace:
    """Collects a Row for every `record` call made while it is active (`with ShapeTrace() as t:`)."""

    def __init__(self):
        self.rows: list[Row] = []

    def __enter__(self) -> "ShapeTrace":
        _active.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _active.remove(self)

    def __getitem__(self, name: str) -> Row:
        matches = [r for r in self.rows if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} rows named {name!r}; names: {[r.name for r in self.rows]}")
        return matches[0]

    @property
    def params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def flops(self) -> int:
        return sum(r.flops for r in self.rows)

    def table(self) -> str:
        body = [[r.name, "(" + ", ".join(map(str, r.shape)) + ")", r.dtype,
                 f"{r.params:,}" if r.params else "", f"{r.flops:,}" if r.flops else ""]
                for r in self.rows]
        body.append(["total", "", "", f"{self.params:,}", f"{self.flops:,}"])
        return tabulate(body, headers=["tensor", "shape", "dtype", "params", "FLOPs"],
                        colalign=("left", "left", "left", "right", "right"))


@contextmanager
def scope(name: str):
    """Prefix the names recorded inside this block with `name.`."""
    _scopes.append(name)
    try:
        yield
    finally:
        _scopes.pop()


def record(name: str, tensor: torch.Tensor, params: int = 0, flops: int = 0) -> torch.Tensor:
    """Add one row to the active trace (if any) and hand the tensor back unchanged."""
    if _active:
        full = ".".join([*_scopes, name])
        _active[-1].rows.append(Row(full, tuple(tensor.shape), str(tensor.dtype).removeprefix("torch."),
                                    params, flops))
    return tensor


def traced_linear(name: str, layer: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """y = x Wᵀ, recorded with its weight count and 2·(rows)·in·out FLOPs."""
    rows = x.numel() // layer.in_features
    y = layer(x)
    return record(name, y, params=layer.weight.numel(), flops=2 * rows * layer.in_features * layer.out_features)
