"""Find nvcc, compile a .cu, and read ptxas's resource report into Python objects.

`nvcc -Xptxas -v` prints, per kernel, the registers it needs, its static shared memory and
whether anything spilled to local memory. Those numbers decide occupancy and explain many
slow kernels, so the labs test them on a machine without a GPU: ptxas runs on the CPU.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

INCLUDE_DIR = Path(__file__).resolve().parent / "include"
DEFAULT_ARCH = "sm_90a"  # Hopper (H100/H200): what the labs target when there is no GPU to ask


def find_nvcc() -> str | None:
    """Path of nvcc: $CUDA_HOME/bin, then PATH, then /usr/local/cuda/bin."""
    candidates = []
    for var in ("CUDA_HOME", "CUDA_PATH"):
        if os.environ.get(var):
            candidates.append(Path(os.environ[var]) / "bin" / "nvcc")
    on_path = shutil.which("nvcc")
    if on_path:
        candidates.append(Path(on_path))
    candidates.append(Path("/usr/local/cuda/bin/nvcc"))
    return next((str(c) for c in candidates if c.is_file() and os.access(c, os.X_OK)), None)


def nvcc_skip_reason() -> str | None:
    """None when nvcc is here; otherwise the reason a compile test skips."""
    return None if find_nvcc() else "nvcc (the CUDA toolkit) is not installed on this machine"


def target_arch() -> str:
    """sm_XY of the visible GPU (sm_90a on Hopper, for its wgmma/TMA features); sm_90a without one."""
    try:
        import torch
        if torch.cuda.is_available():
            major, minor = torch.cuda.get_device_capability()
            return f"sm_{major}{minor}" + ("a" if major == 9 else "")
    except ImportError:
        pass
    return DEFAULT_ARCH


@dataclass
class KernelResources:
    """One kernel's line in the ptxas report."""
    mangled: str
    registers: int = 0
    shared_bytes: int = 0       # static __shared__ memory per block
    stack_bytes: int = 0
    spill_stores: int = 0       # bytes written to local memory because registers ran out
    spill_loads: int = 0
    barriers: int = 0

    @property
    def name(self) -> str:
        """The source name: `_Z10copy_naivePKfPfi` -> `copy_naive` (templates and plain C names too)."""
        m = re.match(r"_Z(\d+)", self.mangled)
        if not m:
            return self.mangled
        start = m.end()
        return self.mangled[start:start + int(m.group(1))]

    @property
    def spills(self) -> bool:
        return self.spill_stores > 0 or self.spill_loads > 0


@dataclass
class CompileResult:
    output: Path
    arch: str
    log: str
    kernels: list[KernelResources] = field(default_factory=list)

    def kernel(self, name: str) -> KernelResources:
        """The one kernel whose source name is `name` (a template's instances: use `kernels_named`)."""
        found = self.kernels_named(name)
        if len(found) != 1:
            raise KeyError(f"{len(found)} kernels named '{name}' in {self.output.name}; "
                           f"have: {sorted({k.name for k in self.kernels})}")
        return found[0]

    def kernels_named(self, name: str) -> list[KernelResources]:
        return [k for k in self.kernels if k.name == name]


_ENTRY = re.compile(r"Compiling entry function '([^']+)' for '(\w+)'")
_STACK = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
_USED = re.compile(r"Used (\d+) registers")
_SMEM = re.compile(r"(\d+) bytes smem")
_BARRIERS = re.compile(r"used (\d+) barriers")


def parse_ptxas(log: str) -> list[KernelResources]:
    """Kernels in the order ptxas reports them, with their registers, shared memory and spills."""
    kernels: list[KernelResources] = []
    current = None
    for line in log.splitlines():
        if m := _ENTRY.search(line):
            current = KernelResources(mangled=m.group(1))
            kernels.append(current)
        elif current is not None and (m := _STACK.search(line)):
            current.stack_bytes, current.spill_stores, current.spill_loads = map(int, m.groups())
        elif current is not None and (m := _USED.search(line)):
            current.registers = int(m.group(1))
            if s := _SMEM.search(line):
                current.shared_bytes = int(s.group(1))
            if b := _BARRIERS.search(line):
                current.barriers = int(b.group(1))
    return kernels


def compile_cu(source: str | Path, out_dir: str | Path, *, executable: bool = False, device_only: bool = False,
               arch: str | None = None, extra: tuple[str, ...] = ()) -> CompileResult:
    """Compile one .cu with `-Xptxas -v`: an object file (compile check) or, with `executable`, a program.

    `device_only` stops at the GPU binary (.cubin): the front end still checks the host code,
    but gcc does not compile it, which saves most of the time of a compile check.

    Raises RuntimeError with nvcc's own message when the compile fails.
    """
    nvcc = find_nvcc()
    if nvcc is None:
        raise RuntimeError(nvcc_skip_reason())
    source = Path(source).resolve()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    arch = arch or target_arch()
    suffix = "" if executable else ".cubin" if device_only else ".o"
    output = out_dir / (source.stem + suffix)
    # One real target (sm_90a), no PTX for other GPUs: `-arch=sm_90a` would also run cicc for compute_90.
    gencode = f"-gencode=arch=compute_{arch.removeprefix('sm_')},code={arch}"
    cmd = [nvcc, gencode, "-O3", "-std=c++17", "-lineinfo", "-Xptxas", "-v",
           "-I", str(INCLUDE_DIR), "-I", str(source.parent), *extra,
           *([] if executable else ["-cubin"] if device_only else ["-c"]), "-o", str(output), str(source)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise RuntimeError(f"nvcc failed on {source.name} (exit {proc.returncode}):\n{log}")
    return CompileResult(output=output, arch=arch, log=log, kernels=parse_ptxas(log))
