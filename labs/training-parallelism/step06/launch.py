"""Start k processes on this machine, each a rank of one gloo process group, and collect their results.

fork copies the parent, torch already imported, so a rank starts in well under a
second (spawn starts a fresh interpreter that imports torch again: seconds per rank
on two cores). The ranks meet through a file in a fresh temporary folder (a
`file://` init_method), so two runs at once never fight over a port. A rank that
fails, or a run that outlives `timeout`, stops all of them: nothing is left running.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from datetime import timedelta
from pathlib import Path

import torch
import torch._dynamo  # noqa: F401  torch.optim imports it on first use (seconds): once here, the forks inherit it
import torch.distributed as dist
import torch.multiprocessing as mp


def launch(worker, world_size: int, *args, timeout: float = 60.0) -> list:
    """Run worker(rank, world_size, *args) on ranks 0..world_size-1; return their results in rank order."""
    if world_size < 1:
        raise ValueError(f"world size must be at least 1, got {world_size}")
    ctx = mp.get_context("fork")
    with tempfile.TemporaryDirectory(prefix="dlc-ranks-") as tmp:
        init = Path(tmp, "rendezvous").as_uri()
        procs = [ctx.Process(target=_rank_main, args=(worker, rank, world_size, init, tmp, args, timeout),
                             daemon=True) for rank in range(world_size)]
        try:
            for p in procs:
                p.start()
            deadline = time.monotonic() + timeout
            while any(p.is_alive() for p in procs):
                if any(p.exitcode not in (None, 0) for p in procs):  # the others would wait for it: stop now
                    raise RuntimeError(_failure(tmp, procs))
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the {world_size} ranks did not finish within {timeout:.0f} s")
                time.sleep(0.01)
            if any(p.exitcode != 0 for p in procs):
                raise RuntimeError(_failure(tmp, procs))
            return [torch.load(Path(tmp, f"rank{r}.pt"), weights_only=False) for r in range(world_size)]
        finally:
            for p in procs:
                if p.is_alive():
                    p.kill()
                p.join()


def _failure(tmp: str, procs) -> str:
    """Every failed rank's traceback, the first to fail first (a rank whose peer died fails too)."""
    failed = [r for r, p in enumerate(procs) if p.exitcode not in (None, 0)]
    errs = {r: Path(tmp, f"rank{r}.err") for r in failed}
    failed.sort(key=lambda r: errs[r].stat().st_mtime_ns if errs[r].exists() else float("inf"))
    return "\n".join(f"rank {r} failed (exit code {procs[r].exitcode})"
                     + (":\n" + errs[r].read_text() if errs[r].exists() else "") for r in failed)


def _rank_main(worker, rank, world_size, init, tmp, args, timeout) -> None:
    torch.set_num_threads(1)  # k ranks share the cores: one compute thread each
    code = 0
    try:
        dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world_size,
                                timeout=timedelta(seconds=timeout))
        result = worker(rank, world_size, *args)
        torch.save(result, Path(tmp, f"rank{rank}.pt"))
        dist.destroy_process_group()
    except BaseException:
        Path(tmp, f"rank{rank}.err").write_text(traceback.format_exc())
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # leave without running the parent's exit handlers (pytest's, for one) in the copy
