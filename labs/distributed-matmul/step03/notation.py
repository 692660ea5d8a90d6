"""The sharding notation A[I_X, J] and what it means on a mesh.

A subscript names the mesh axes a dimension is split over (`I_XY` splits I over X and Y,
X major); a dimension without one is copied whole onto every device. The notation maps
one to one onto a `PartitionSpec`: A[I_X, J] is P("X", None), A[I_XY, J] is P(("X", "Y"), None).
"""
from __future__ import annotations

import math
import re

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

_ARRAY = re.compile(r"^\s*(\w+)\s*\[(.*)\]\s*$")
_DIM = re.compile(r"^([A-Za-z]+)(?:_([A-Za-z]+))?$")


def parse(notation: str, mesh: Mesh) -> tuple[str, list[str], P]:
    """'A[I_X, J_Y]' -> ('A', ['I', 'J'], P('X', 'Y')). Mesh axes are single letters."""
    m = _ARRAY.match(notation)
    if not m or not m.group(2).strip():
        raise ValueError(f"{notation!r}: write an array as NAME[DIM, DIM_AXES, ...], e.g. A[I_X, J]")
    dims, spec, used = [], [], []
    for part in m.group(2).split(","):
        d = _DIM.match(part.strip())
        if not d:
            raise ValueError(f"{notation!r}: cannot read dimension {part.strip()!r}")
        dims.append(d.group(1))
        axes = tuple(d.group(2) or "")
        for a in axes:
            if a not in mesh.axis_names:
                raise ValueError(f"{notation!r}: mesh has axes {mesh.axis_names}, not {a!r}")
            if a in used:
                raise ValueError(f"{notation!r}: mesh axis {a} shards two dimensions; an axis splits one at most")
            used.append(a)
        spec.append(None if not axes else axes[0] if len(axes) == 1 else axes)
    return m.group(1), dims, P(*spec)


def to_notation(name: str, dims: list[str], spec: P) -> str:
    """The inverse of `parse`."""
    out = []
    for d, s in zip(dims, tuple(spec) + (None,) * (len(dims) - len(spec))):
        axes = "" if s is None else s if isinstance(s, str) else "".join(s)
        out.append(f"{d}_{axes}" if axes else d)
    return f"{name}[{', '.join(out)}]"


def shards_per_dim(spec: P, mesh: Mesh, ndim: int) -> list[int]:
    """How many pieces each dimension is cut into: the product of its mesh axes' sizes."""
    padded = tuple(spec) + (None,) * (ndim - len(spec))
    out = []
    for s in padded:
        axes = () if s is None else (s,) if isinstance(s, str) else tuple(s)
        out.append(math.prod(mesh.shape[a] for a in axes))
    return out


def local_shape(shape: tuple[int, ...], spec: P, mesh: Mesh) -> tuple[int, ...]:
    """The shape each device holds."""
    cuts = shards_per_dim(spec, mesh, len(shape))
    for n, c in zip(shape, cuts):
        if n % c:
            raise ValueError(f"dimension of size {n} does not split evenly into {c} shards")
    return tuple(n // c for n, c in zip(shape, cuts))


def copies(spec: P, mesh: Mesh, ndim: int) -> int:
    """How many devices hold each element: the mesh axes that shard nothing replicate."""
    return mesh.size // math.prod(shards_per_dim(spec, mesh, ndim))


def device_slices(shape: tuple[int, ...], spec: P, mesh: Mesh) -> dict[int, tuple[slice, ...]]:
    """Which block of the global array each device holds, from its coordinates on the mesh."""
    loc = local_shape(shape, spec, mesh)
    padded = tuple(spec) + (None,) * (len(shape) - len(spec))
    out = {}
    for coord in np.ndindex(*mesh.devices.shape):
        pos = dict(zip(mesh.axis_names, coord))
        index = []
        for s, n in zip(padded, loc):
            axes = () if s is None else (s,) if isinstance(s, str) else tuple(s)
            block = 0
            for a in axes:  # the first axis is the major one
                block = block * mesh.shape[a] + pos[a]
            index.append(slice(block * n, (block + 1) * n))
        out[mesh.devices[coord].id] = tuple(index)
    return out


def shard(x, notation: str, mesh: Mesh) -> jax.Array:
    """Place the array x on the mesh as the notation says."""
    _, dims, spec = parse(notation, mesh)
    if len(dims) != np.ndim(x):
        raise ValueError(f"{notation!r} names {len(dims)} dimensions; the array has {np.ndim(x)}")
    local_shape(np.shape(x), spec, mesh)  # a clear error when a dimension does not split evenly
    return jax.device_put(x, NamedSharding(mesh, spec))
