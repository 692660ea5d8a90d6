"""pytest helpers shared by every lab: the `gpu` marker with an honest skip reason."""
from __future__ import annotations

import importlib.util

import pytest


def cuda_available() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch
    return torch.cuda.is_available()


def gpu(fn):
    """Mark a test as needing CUDA: it runs on a GPU machine and is skipped, with a reason, elsewhere."""
    fn = pytest.mark.skipif(not cuda_available(), reason="needs a CUDA GPU; this machine has none")(fn)
    return pytest.mark.gpu(fn)
