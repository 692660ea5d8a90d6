"""Load a .cu into Python as a PyTorch extension (needs a CUDA GPU and a CUDA build of torch).

The .cu keeps its kernels and raw-pointer launchers free of torch, so nvcc can compile and
resource-check it on any machine; its torch wrappers and PYBIND11_MODULE sit under
`#ifdef TORCH_EXTENSION_NAME`, which only torch.utils.cpp_extension defines.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from .build import INCLUDE_DIR, target_arch


def extension_skip_reason() -> str | None:
    """None when a .cu can be loaded here; otherwise why not."""
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if not torch.cuda.is_available():
        return "needs a CUDA GPU (and a CUDA build of torch); this machine has none"
    from torch.utils.cpp_extension import CUDA_HOME
    if CUDA_HOME is None:
        return "torch cannot find the CUDA toolkit (set CUDA_HOME)"
    return None


def load_cuda(source: str | Path, *, verbose: bool = False):
    """Compile `source` with torch's cpp_extension (cached by content) and import it as a module."""
    reason = extension_skip_reason()
    if reason:
        raise RuntimeError(reason)
    from torch.utils.cpp_extension import load
    source = Path(source).resolve()
    text = b"".join(p.read_bytes() for p in sorted(source.parent.glob("*.cu*")))
    # The module name carries a hash of the step's CUDA files: two steps never share a build.
    name = f"{source.stem}_{hashlib.sha256(text).hexdigest()[:10]}"
    return load(name=name, sources=[str(source)], verbose=verbose,
                extra_include_paths=[str(INCLUDE_DIR), str(source.parent)],
                extra_cuda_cflags=["-O3", "-std=c++17", "-lineinfo", f"-arch={target_arch()}"])
