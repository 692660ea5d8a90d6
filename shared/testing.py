"""pytest helpers shared by every lab: the `gpu` marker and tolerances derived from the numbers.

The tolerance rule (docs/LAB_GUIDE.md, "Tolerances"): two evaluations of the same
computation that differ only in rounding (another BLAS kernel, another summation
order, float64 against float32) differ by about

    eps(dtype) * scale * sqrt(terms) * depth

where `scale` is the magnitude of the values compared (max |reference|), `terms`
the length of the longest reduction feeding one output (a dot product's K), and
`depth` the number of rounding stages chained in sequence (layers, decode steps).
The sqrt is the random-walk growth of independent rounding errors; the worst case
is linear, so a fixed safety factor (SAFETY) covers the gap. Nothing here is tuned
to one machine: a test states dtype, terms and depth, and the bound follows.
"""
from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

SAFETY = 8.0
EPS = {"float64": 2.0**-52, "float32": 2.0**-23, "float16": 2.0**-10, "bfloat16": 2.0**-7,
       "float8_e4m3fn": 2.0**-3, "float8_e5m2": 2.0**-2}


def cuda_available() -> bool:
    """A CUDA GPU that torch or, in an environment with JAX, JAX can use."""
    if importlib.util.find_spec("torch") is not None:
        import torch
        if torch.cuda.is_available():
            return True
    if importlib.util.find_spec("jax") is not None:
        import jax
        try:
            return jax.default_backend() == "gpu"
        except RuntimeError:
            return False
    return False


def gpu(fn):
    """Mark a test as needing CUDA: it runs on a GPU machine and is skipped, with a reason, elsewhere."""
    fn = pytest.mark.skipif(not cuda_available(), reason="needs a CUDA GPU; this machine has none")(fn)
    return pytest.mark.gpu(fn)


def eps(dtype) -> float:
    """Machine epsilon of a dtype given as a name, a NumPy dtype, a torch dtype or a JAX dtype."""
    name = str(dtype).replace("torch.", "")
    if name not in EPS:
        try:
            name = np.dtype(dtype).name  # NumPy and JAX dtypes, scalar types included
        except TypeError:
            pass
    if name not in EPS:
        raise ValueError(f"no epsilon known for dtype {dtype!r}")
    return EPS[name]


def _numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):  # torch
        x = x.detach().cpu()
        if not x.dtype.is_floating_point or x.dtype.itemsize < 4:
            x = x.float()
        return x.numpy().astype(np.float64)
    return np.asarray(x, dtype=np.float64)


def tolerance(dtype, scale: float, terms: int = 1, depth: int = 1, safety: float = SAFETY) -> float:
    """Absolute tolerance for a rounding-only difference (see the module docstring)."""
    return safety * eps(dtype) * float(scale) * math.sqrt(max(terms, 1)) * max(depth, 1)


def assert_close(actual, expected, dtype, terms: int = 1, depth: int = 1, scale: float | None = None,
                 safety: float = SAFETY) -> float:
    """Assert |actual - expected| <= tolerance(dtype, scale, terms, depth) everywhere; return the max diff.

    `dtype` is the lowest precision the computation ran in; `scale` defaults to max |expected|.
    The failure message states the bound and how it was derived.
    """
    a, e = _numpy(actual), _numpy(expected)
    assert a.shape == e.shape, f"shapes differ: {a.shape} vs {e.shape}"
    assert np.isfinite(e).all(), "the reference has non-finite values"
    if scale is None:
        scale = float(np.abs(e).max()) if e.size else 0.0
    tol = tolerance(dtype, scale, terms, depth, safety)
    diff = float(np.abs(a - e).max()) if a.size else 0.0
    assert diff <= tol, (f"max |diff| {diff:.3g} > tolerance {tol:.3g} = {safety:g} * eps({dtype}) {eps(dtype):.3g}"
                         f" * scale {scale:.3g} * sqrt(terms {terms}) * depth {depth}")
    return diff
