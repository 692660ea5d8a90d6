"""The collectives every rank calls together, with the bytes each rank sends and the time each takes.

Bytes per rank for the ring algorithms (n = bytes of the full tensor, k ranks):
  all_reduce       2 (k-1)/k * n   a reduce-scatter, then an all-gather
  reduce_scatter     (k-1)/k * n   n = the input; each rank ends with n/k reduced
  all_gather         (k-1)/k * n   n = the output; each rank starts with n/k
  all_to_all         (k-1)/k * n   each rank keeps 1/k of its own tensor and sends the rest
  broadcast                  n     every rank but the root receives the whole tensor once
The busbw of an op is those bytes over its time: comparable across ops and world sizes.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
import torch.distributed as dist

from distributed import close, init

OPS = ("broadcast", "all_reduce", "reduce_scatter", "all_gather", "all_to_all")


def bytes_per_rank(op: str, nbytes: int, world_size: int) -> int:
    """What one rank sends in the ring algorithm (exact for n divisible by k)."""
    k = world_size
    if op == "all_reduce":
        return 2 * (k - 1) * nbytes // k
    if op in ("reduce_scatter", "all_gather", "all_to_all"):
        return (k - 1) * nbytes // k
    if op == "broadcast":
        return nbytes
    raise ValueError(f"unknown collective '{op}'; known: {', '.join(OPS)}")


def rank_tensor(rank: int, numel: int, dtype=torch.float32) -> torch.Tensor:
    """Rank r's input: (r + 1) * [0, 1, ..., numel-1] / numel, so every rank can compute the expected result."""
    return (rank + 1) * torch.arange(numel, dtype=torch.float64).div(numel).to(dtype)


def expected(op: str, rank: int, world_size: int, numel: int) -> torch.Tensor:
    """The result rank `rank` must hold, computed here in float64 without any communication."""
    k, chunk = world_size, numel // world_size
    base = torch.arange(numel, dtype=torch.float64) / numel
    total = base * (k * (k + 1) / 2)  # sum over ranks r of (r + 1) * base
    if op == "broadcast":
        return base  # rank 0's tensor
    if op == "all_reduce":
        return total
    if op == "reduce_scatter":
        return total[rank * chunk:(rank + 1) * chunk]
    if op == "all_gather":  # every rank contributes its first numel/k elements
        return torch.cat([(r + 1) * base[:chunk] for r in range(k)])
    if op == "all_to_all":  # from every rank r, the chunk with this rank's number
        return torch.cat([(r + 1) * base[rank * chunk:(rank + 1) * chunk] for r in range(k)])
    raise ValueError(op)


def run_op(op: str, numel: int) -> tuple[torch.Tensor, int]:
    """Call one collective on this rank's input; (the result, the bytes of the full tensor n)."""
    rank, k = dist.get_rank(), dist.get_world_size()
    x = rank_tensor(rank, numel)
    if op == "broadcast":
        dist.broadcast(x, src=0)
        return x, x.nbytes
    if op == "all_reduce":
        dist.all_reduce(x)  # sum, in place
        return x, x.nbytes
    if op == "reduce_scatter":
        out = torch.empty(numel // k)
        dist.reduce_scatter_tensor(out, x)
        return out, x.nbytes
    if op == "all_gather":
        out = torch.empty(numel)
        dist.all_gather_into_tensor(out, x[:numel // k].contiguous())
        return out, out.nbytes
    if op == "all_to_all":
        out = torch.empty(numel)
        dist.all_to_all_single(out, x)
        return out, x.nbytes
    raise ValueError(f"unknown collective '{op}'")


def measure(op: str, numel: int, repeat: int = 5) -> dict:
    """Median seconds over `repeat` calls (a barrier before each, so all ranks start together)."""
    k = dist.get_world_size()
    result, nbytes = run_op(op, numel)  # also the warm-up
    err = (result.double() - expected(op, dist.get_rank(), k, numel)).abs().max().reshape(1)
    dist.all_reduce(err, op=dist.ReduceOp.MAX)  # the worst rank's error
    times = []
    for _ in range(repeat):
        dist.barrier()
        t0 = time.perf_counter()
        run_op(op, numel)
        times.append(time.perf_counter() - t0)
    seconds = statistics.median(times)
    sent = bytes_per_rank(op, nbytes, k)
    return dict(op=op, numel=numel, nbytes=nbytes, bytes_per_rank=sent, seconds=seconds, samples=times,
                max_abs_err=err.item(), busbw_gbs=sent / seconds / 1e9)


def all_reduce_mean_(tensors: list[torch.Tensor]) -> int:
    """Average tensors over the ranks in one flat all_reduce; return the bytes all-reduced."""
    flat = torch.cat([t.flatten() for t in tensors])
    dist.all_reduce(flat)  # the sum over ranks
    flat /= dist.get_world_size()
    offset = 0
    for t in tensors:
        t.copy_(flat[offset:offset + t.numel()].view_as(t))
        offset += t.numel()
    return flat.nbytes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="1024,65536,1048576", help="float32 elements per tensor, comma-separated")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", help="rank 0 writes every measurement as JSON here")
    ap.add_argument("--json", action="store_true", help="rank 0 writes results/collectives_gloo_<k>ranks.json")
    args = ap.parse_args()
    if "WORLD_SIZE" not in os.environ:
        ap.error("collectives need a process group: run it under torchrun, e.g. "
                 "`torchrun --nproc-per-node 2 collectives.py --repeat 10`")
    rank, k, _ = init()
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
        if any(s % (k * k) for s in sizes):
            raise SystemExit(f"error: sizes must be multiples of world_size^2 = {k * k}")
        rows = [measure(op, n, args.repeat) for n in sizes for op in OPS]
        if rank == 0:
            import json
            from pathlib import Path

            from tabulate import tabulate
            print(tabulate([[r["op"], r["nbytes"], r["bytes_per_rank"], r["seconds"] * 1e3, r["busbw_gbs"],
                             r["max_abs_err"]] for r in rows],
                           headers=["op", "tensor bytes n", "bytes/rank (ring)", "ms (median)", "busbw GB/s",
                                    "max |err|"], floatfmt=("", "d", "d", ".3f", ".3f", ".1e")))
            if args.out:
                Path(args.out).write_text(json.dumps({"world_size": k, "rows": rows}))
            if args.json:
                from dlc_shared.bench import write_result
                print("wrote", write_result(f"collectives_gloo_{k}ranks", dict(world_size=k, rows=rows)))
    finally:
        close()


if __name__ == "__main__":
    main()
