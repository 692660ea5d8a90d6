"""Swap points: which implementation runs RMSNorm and attention, chosen by name for each engine.

The model and the runner call through these tables instead of naming one function.
A faster implementation is then one more entry, tested against the reference, and
nothing else changes. The default stays today's code; "auto" picks, per device, the
entry that measured fastest there.
"""
from dataclasses import dataclass, replace

import torch

from attention import PagedAttention, PagedDecodeAttention


def rms_norm_reference(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    dtype = x.dtype
    x = x.float()  # the mean of squares is taken in float32 whatever the model dtype
    x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return weight * x.to(dtype)


RMSNORM = {"reference": rms_norm_reference}
# An attention backend is a pair: the ctx class of a prefill step and the one of a decode step.
ATTENTION = {"gather": (PagedAttention, PagedDecodeAttention)}
TABLES = {"rmsnorm": RMSNORM, "attention": ATTENTION}
# What "auto" means on each device.
AUTO = {"cpu": {"rmsnorm": "reference", "attention": "gather"},
        "cuda": {"rmsnorm": "reference", "attention": "gather"}}


@dataclass(frozen=True)
class KernelConfig:
    rmsnorm: str = "auto"
    attention: str = "auto"

    @classmethod
    def parse(cls, spec: str) -> "KernelConfig":
        """'auto', or comma-separated choices such as 'rmsnorm=reference,attention=gather'."""
        config = cls()
        if spec == "auto":
            return config
        for item in spec.split(","):
            key, _, value = item.partition("=")
            if key not in TABLES or not value:
                raise ValueError(f"bad kernel choice {item!r}: expected NAME=VALUE with NAME in {sorted(TABLES)}")
            config = replace(config, **{key: value})
        return config

    def resolve(self, device: str) -> "KernelConfig":
        """Replace "auto" by the device's choice and check every name; a ValueError names the choices."""
        chosen = {}
        for key, table in TABLES.items():
            name = getattr(self, key)
            name = AUTO[device][key] if name == "auto" else name
            if name not in table:
                raise ValueError(f"unknown {key} backend {name!r}; choose from {sorted(table)} or 'auto'")
            chosen[key] = name
        return KernelConfig(**chosen)

    def __str__(self):
        return ",".join(f"{key}={getattr(self, key)}" for key in TABLES)
