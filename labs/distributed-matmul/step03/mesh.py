"""Eight simulated CPU devices arranged as a named mesh.

XLA reads `--xla_force_host_platform_device_count` once, when JAX starts its CPU
backend, so this module sets the flag before it imports jax. Import it first.
"""
from __future__ import annotations

import os

N_DEVICES = 8
_FLAG = f"--xla_force_host_platform_device_count={N_DEVICES}"
if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + _FLAG).strip()

import jax  # noqa: E402
from jax.sharding import AxisType, Mesh  # noqa: E402


def make_mesh(shape: tuple[int, ...] = (4, 2), names: tuple[str, ...] = ("X", "Y")) -> Mesh:
    """A mesh over the first prod(shape) devices; axes are Auto so that XLA chooses the collectives."""
    if len(shape) != len(names) or len(set(names)) != len(names):
        raise ValueError(f"mesh shape {shape} and axis names {names} must pair up, names distinct")
    if any(n < 1 for n in shape):
        raise ValueError(f"mesh axes must have size >= 1, got {shape}")
    size = 1
    for n in shape:
        size *= n
    have = len(jax.devices())
    if size > have:
        hint = "" if have >= N_DEVICES else f" (set XLA_FLAGS={_FLAG} before jax is imported)"
        raise ValueError(f"a {'x'.join(map(str, shape))} mesh needs {size} devices; JAX has {have}{hint}")
    return jax.make_mesh(shape, names, axis_types=(AxisType.Auto,) * len(names), devices=jax.devices()[:size])
