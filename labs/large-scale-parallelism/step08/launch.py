"""Start `world` processes on this machine, join them into one gloo process group, and collect results.

Processes are forked, not spawned: a forked child already has torch imported, a spawned one imports it
again (step01's bench.py times both; spawn is many times slower on two cores). They meet through a file in a fresh temporary
directory (no port to pick), and are always reaped: a failure or a hang kills every one of them.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import tempfile
import time
import traceback

import torch
import torch.distributed as dist


class WorkerError(RuntimeError):
    pass


def _entry(fn, rank: int, world: int, folder: str, args: tuple):
    torch.set_num_threads(1)
    code = 0
    try:
        dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous", rank=rank, world_size=world)
        result = fn(rank, world, *args)
        torch.save(result, f"{folder}/result{rank}.pt")
    except BaseException:
        with open(f"{folder}/error{rank}.txt", "w") as f:
            f.write(traceback.format_exc())
        code = 1
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    os._exit(code)  # a forked child must not run the parent's exit handlers (pytest's, for one)


def launch(fn, world: int, *args, timeout: float = 60.0) -> list:
    """Run fn(rank, world, *args) in `world` processes; return their return values, rank by rank."""
    folder = tempfile.mkdtemp(prefix="dlc-gloo-")
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_entry, args=(fn, r, world, folder, args), daemon=True) for r in range(world)]
    try:
        for p in procs:
            p.start()
        deadline = time.monotonic() + timeout
        while any(p.is_alive() for p in procs):
            if any(p.exitcode not in (None, 0) for p in procs):
                break           # one failed: the others may wait forever in a collective
            if time.monotonic() > deadline:
                raise WorkerError(f"workers still running after {timeout} s (a collective that never matched?)")
            time.sleep(0.01)
        errors = []
        for r in range(world):
            path = f"{folder}/error{r}.txt"
            if os.path.exists(path):
                errors.append(f"rank {r}:\n" + open(path).read())
        if errors or any(p.exitcode not in (None, 0) for p in procs):
            raise WorkerError("\n".join(errors) or "a worker died without a message")
        return [torch.load(f"{folder}/result{r}.pt", weights_only=False) for r in range(world)]
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
            p.join(timeout=5)
        shutil.rmtree(folder, ignore_errors=True)
