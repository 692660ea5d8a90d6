"""ops.cu from Python: a compile check that runs anywhere, and a PyTorch JIT extension on a GPU.

torch.utils.cpp_extension.load(name, sources, ...) writes a build.ninja into a build folder
(~/.cache/torch_extensions/<name> by default), runs nvcc on the .cu (its PYBIND11_MODULE is the
module's entry point), links one shared library and imports it as the module `name`. A second
call with the same name finds the library and only imports it. The name below carries a hash
of the CUDA sources, so an edited kernel is a new module instead of a stale import.
"""
from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

from dlc_kernels.cuda import INCLUDE_DIR, CompileResult, compile_cu, target_arch

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "ops.cu"
CUDA_FILES = ("*.cu", "*.cuh")


def source_hash() -> str:
    """The first 10 hex digits of sha256 over the step's CUDA files (ops.cu and the headers it includes)."""
    files = sorted(p for pattern in CUDA_FILES for p in HERE.glob(pattern))
    return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()[:10]


def load_kwargs(arch: str | None = None) -> dict:
    """What we pass to torch.utils.cpp_extension.load: the module name, the .cu, include paths, nvcc flags."""
    return {
        "name": f"{SOURCE.stem}_{source_hash()}",
        "sources": [str(SOURCE)],
        "extra_include_paths": [str(INCLUDE_DIR), str(HERE)],
        "extra_cuda_cflags": ["-O3", "-std=c++17", "-lineinfo", f"-arch={arch or target_arch()}"],
    }


def bindings(source: Path = SOURCE) -> list[str]:
    """Python names the module will have: the m.def("name", ...) lines of its PYBIND11_MODULE block."""
    text = source.read_text()
    block = text[text.index("PYBIND11_MODULE"):]
    return re.findall(r'm\.def\("(\w+)"', block)


def compile_check(out_dir: str | Path) -> CompileResult:
    """nvcc for this GPU (sm_90a without one) with -Xptxas -v, device code only: every kernel's resources."""
    return compile_cu(SOURCE, out_dir, device_only=True)


@functools.cache
def ops():
    """ops.cu as a Python module (needs a CUDA GPU and a CUDA build of torch); built once, then cached on disk."""
    from dlc_kernels.cuda import extension_skip_reason
    if reason := extension_skip_reason():
        raise RuntimeError(reason)
    from torch.utils.cpp_extension import load
    return load(**load_kwargs())
