"""Build the step's CUDA C++ programs with nvcc and run them on NumPy arrays through raw float32 files."""
from __future__ import annotations

import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from dlc_kernels.cuda import CompileResult, compile_cu

HERE = Path(__file__).resolve().parent


PROGRAMS = ("vector_add", "grid_add")


def build(out_dir: str | Path, name: str = "vector_add") -> CompileResult:
    """Compile <name>.cu into a program (nvcc -arch=<this GPU, or sm_90a> -Xptxas -v)."""
    return compile_cu(HERE / f"{name}.cu", out_dir, executable=True)


def build_all(out_dir: str | Path) -> dict[str, CompileResult]:
    """Every program of the step, compiled side by side (nvcc is mostly one busy core each)."""
    with ThreadPoolExecutor(len(PROGRAMS)) as pool:
        return dict(zip(PROGRAMS, pool.map(lambda name: build(out_dir, name), PROGRAMS)))


def run_program(exe: str | Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60)


def vector_add(exe: str | Path, a: np.ndarray, b: np.ndarray, block: int = 256) -> np.ndarray:
    """c = a + b computed by the program; raises RuntimeError with its stderr if it fails."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    b = np.ascontiguousarray(b, dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        files = [Path(tmp) / name for name in ("a.bin", "b.bin", "c.bin")]
        a.tofile(files[0])
        b.tofile(files[1])
        proc = run_program(exe, str(a.size), *map(str, files), str(block))
        if proc.returncode != 0:
            raise RuntimeError(f"{Path(exe).name} exited with {proc.returncode}: {proc.stderr.strip()}")
        return np.fromfile(files[2], dtype=np.float32)


def grid_add(exe: str | Path, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """c = a + b for a 2D (H, W) or 3D (D, H, W) array, computed by the grid_add program."""
    if a.ndim not in (2, 3) or a.shape != b.shape:
        raise ValueError(f"need two equal 2D or 3D arrays, got {a.shape} and {b.shape}")
    shape = (1, *a.shape) if a.ndim == 2 else a.shape
    a = np.ascontiguousarray(a, dtype=np.float32)
    b = np.ascontiguousarray(b, dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        files = [Path(tmp) / name for name in ("a.bin", "b.bin", "c.bin")]
        a.tofile(files[0])
        b.tofile(files[1])
        proc = run_program(exe, *map(str, shape), *map(str, files))
        if proc.returncode != 0:
            raise RuntimeError(f"{Path(exe).name} exited with {proc.returncode}: {proc.stderr.strip()}")
        return np.fromfile(files[2], dtype=np.float32).reshape(a.shape)
