"""The step's CUDA code from Python: a compile check that runs anywhere, and the extension on a GPU."""
from __future__ import annotations

import functools
from pathlib import Path

from dlc_kernels.cuda import CompileResult, compile_cu, load_cuda

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "ops.cu"


def compile_check(out_dir: str | Path) -> CompileResult:
    """nvcc -arch=<this GPU, or sm_90a> -Xptxas -v on ops.cu, device code only: every kernel's resources."""
    return compile_cu(SOURCE, out_dir, device_only=True)


@functools.cache
def ops():
    """ops.cu as a PyTorch extension (needs a CUDA GPU); built once per process, cached by content."""
    return load_cuda(SOURCE)
