"""Start ranks the way torchrun does, and always reap them: free ports, timeouts, kill in `finally`.

torchrun (`python -m torch.distributed.run`) starts one process per rank and hands each
its place through environment variables: RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR,
MASTER_PORT. `torchrun_cmd` builds that command line; `spawn_ranks` sets the same
variables itself and starts the ranks directly (one interpreter start fewer).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    """A TCP port nobody listens on now: bind port 0 and let the kernel choose."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun_cmd(script_args: list[str], nproc: int, port: int, *, nnodes: int = 1, run_id: str = "lab",
                 extra: tuple[str, ...] = ()) -> list[str]:
    """torchrun with the c10d rendezvous on 127.0.0.1:port: the first agent to arrive hosts the store."""
    return [sys.executable, "-m", "torch.distributed.run", f"--nnodes={nnodes}", f"--nproc-per-node={nproc}",
            "--rdzv-backend=c10d", f"--rdzv-endpoint=127.0.0.1:{port}", f"--rdzv-id={run_id}", *extra,
            *script_args]


@dataclass
class Finished:
    returncode: int | None  # None: killed after the timeout
    stdout: str
    stderr: str


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (read from /proc): torchrun's workers run in sessions of their own."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def run_all(cmds: list[list[str]], timeout: float, env: list[dict] | None = None) -> list[Finished]:
    """Run commands side by side; after `timeout` seconds, or on any error here, kill them and all below."""
    env = env or [{}] * len(cmds)
    base = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    procs = []
    try:
        for cmd, extra in zip(cmds, env):
            procs.append(subprocess.Popen(cmd, env={**base, **extra}, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True, start_new_session=True))
        deadline = time.monotonic() + timeout
        return [Finished(*_wait(p, deadline)) for p in procs]
    finally:
        for p in procs:
            for pid in [*_descendants(p.pid), p.pid]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            p.wait()


def _wait(p: subprocess.Popen, deadline: float) -> tuple[int | None, str, str]:
    try:
        out, err = p.communicate(timeout=max(0.1, deadline - time.monotonic()))
        return p.returncode, out, err
    except subprocess.TimeoutExpired:
        for pid in [*_descendants(p.pid), p.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        out, err = p.communicate()
        return None, out, err


def spawn_ranks(script_args: list[str], world_size: int, timeout: float) -> list[Finished]:
    """`world_size` processes with the variables torchrun would give them (one machine, a free port)."""
    port = free_port()
    env = [dict(RANK=str(r), LOCAL_RANK=str(r), WORLD_SIZE=str(world_size), LOCAL_WORLD_SIZE=str(world_size),
                MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)) for r in range(world_size)]
    return run_all([[sys.executable, *script_args]] * world_size, timeout, env)
