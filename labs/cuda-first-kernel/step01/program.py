"""Build the step's CUDA C++ program with nvcc and run it on NumPy arrays through raw float32 files."""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np

from dlc_kernels.cuda import CompileResult, compile_cu

HERE = Path(__file__).resolve().parent


def build(out_dir: str | Path) -> CompileResult:
    """Compile vector_add.cu into a program (nvcc -arch=<this GPU, or sm_90a> -Xptxas -v)."""
    return compile_cu(HERE / "vector_add.cu", out_dir, executable=True)


def run_program(exe: str | Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60)


def vector_add(exe: str | Path, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """c = a + b computed by the program; raises RuntimeError with its stderr if it fails."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    b = np.ascontiguousarray(b, dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        files = [Path(tmp) / name for name in ("a.bin", "b.bin", "c.bin")]
        a.tofile(files[0])
        b.tofile(files[1])
        proc = run_program(exe, str(a.size), *map(str, files))
        if proc.returncode != 0:
            raise RuntimeError(f"{Path(exe).name} exited with {proc.returncode}: {proc.stderr.strip()}")
        return np.fromfile(files[2], dtype=np.float32)
