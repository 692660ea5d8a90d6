"""Start the processes of a multi-process JAX run on this machine and wait for all of them.

On a cluster the scheduler (Slurm, Kubernetes, ...) starts one process per host and JAX
reads the coordinator's address from it; here we start them ourselves on 127.0.0.1.
Whatever happens, every process is reaped: the first failure stops the rest, and so
does the timeout.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


class LaunchError(RuntimeError):
    pass


def free_port() -> int:
    """A port nobody listens on now (the OS picks it), so that two runs never collide."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(n_processes: int, worker_args: list[str], *, timeout: float = 120, env: dict | None = None) -> list[str]:
    """Run worker.py n_processes times with process ids 0..n-1; return each process's output."""
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    worker = Path(__file__).with_name("worker.py")
    with tempfile.TemporaryDirectory() as tmp:
        logs = [open(Path(tmp) / f"process{i}.log", "w+") for i in range(n_processes)]
        procs = []
        try:
            for i in range(n_processes):
                cmd = [sys.executable, str(worker), "--coordinator", f"127.0.0.1:{port}",
                       "--num-processes", str(n_processes), "--process-id", str(i), *worker_args]
                procs.append(subprocess.Popen(cmd, stdout=logs[i], stderr=subprocess.STDOUT, env=env))
            deadline = time.monotonic() + timeout
            while any(p.poll() is None for p in procs):
                failed = [i for i, p in enumerate(procs) if p.returncode not in (None, 0)]
                if failed:
                    i = failed[0]
                    raise LaunchError(f"process {i} exited with code {procs[i].returncode}:\n{tail(logs[i])}")
                if time.monotonic() > deadline:
                    raise LaunchError(f"timed out after {timeout:.0f} s; process 0 said:\n{tail(logs[0])}")
                time.sleep(0.05)
            for i, p in enumerate(procs):
                if p.returncode != 0:
                    raise LaunchError(f"process {i} exited with code {p.returncode}:\n{tail(logs[i])}")
            return [tail(log, 100_000) for log in logs]
        finally:
            for p in procs:  # reap everything still running, whatever happened above
                if p.poll() is None:
                    p.kill()
                p.wait()
            for log in logs:
                log.close()


def tail(log, n: int = 2000) -> str:
    log.flush()
    log.seek(0)
    return log.read()[-n:].strip()
