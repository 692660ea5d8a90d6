"""Time starting gloo process groups by fork and by spawn (torch.multiprocessing.start_processes), side by side.

    python bench.py [--world 4] [--repeats 3] [--json]

--json writes results/process_start.json. Run it while nothing else uses the cores.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as tmp
from tabulate import tabulate

from dlc_shared.bench import median, write_result


def _worker(rank: int, world: int, path: str):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{path}", rank=rank, world_size=world)
    dist.all_reduce(torch.ones(1))
    dist.destroy_process_group()


def start_and_join(method: str, world: int) -> float:
    folder = tempfile.mkdtemp(prefix="dlc-start-")
    t = time.perf_counter()
    tmp.start_processes(_worker, args=(world, os.path.join(folder, "rendezvous")), nprocs=world,
                        join=True, start_method=method)
    return time.perf_counter() - t


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", type=int, default=4, choices=[2, 4, 8])
    parser.add_argument("--repeats", type=int, default=3, choices=range(1, 11))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    samples = {m: [] for m in ("fork", "spawn")}
    for _ in range(args.repeats):
        for m in samples:                       # alternate, so a change in load hits both alike
            samples[m].append(start_and_join(m, args.world))
    med = {m: median(s) for m, s in samples.items()}
    print(tabulate([[m, args.world, f"{med[m]:.2f}"] for m in samples],
                   headers=["start method", "processes", "median s (start, one all_reduce, join)"]))
    print(f"spawn / fork = {med['spawn'] / med['fork']:.0f}x")
    if args.json:
        write_result("process_start", {"world": args.world, "samples_s": samples,
                                       "median_s": {m: round(v, 2) for m, v in med.items()},
                                       "ratio_spawn_over_fork": round(med["spawn"] / med["fork"])})
    return 0


if __name__ == "__main__":
    sys.exit(main())
