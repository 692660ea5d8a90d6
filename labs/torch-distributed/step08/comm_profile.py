"""Read the collectives out of a torch.profiler trace and turn them into a bandwidth table.

The trace holds two kinds of communication events:
  c10d::_allgather_base_, c10d::_reduce_scatter_base_, c10d::allreduce_   what the program asked for
  gloo:all_gather, gloo:all_reduce, ...                                   the backend's work, timed on its
                                                                           own threads (nccl:... on GPUs)
The backend events carry the tensor shapes (record_shapes=True), so bytes follow from the
shape, and bandwidth from bytes over duration.
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path

from collectives import bytes_per_rank

BACKENDS = ("gloo:", "nccl:")


def collective_events(trace_path: str | Path) -> list[dict]:
    """Complete events ("ph": "X") whose name starts with a backend prefix, in trace order."""
    trace = json.loads(Path(trace_path).read_text())
    return [e for e in trace["traceEvents"] if e.get("ph") == "X" and e["name"].startswith(BACKENDS)]


def numel(dims: list) -> int:
    out = 1
    for d in dims:
        out *= d
    return out


def bandwidth_table(events: list[dict], world_size: int, itemsize: int = 4) -> list[dict]:
    """One row per (op, input size): calls, tensor bytes n, ring bytes per rank, median time, busbw."""
    groups: dict[tuple[str, int], list[float]] = {}
    for e in events:
        dims = e.get("args", {}).get("Input Dims")
        if not dims or not dims[0]:  # barriers and other calls without a tensor
            continue
        op = e["name"].split(":", 1)[1]
        groups.setdefault((op, numel(dims[0])), []).append(e["dur"])  # dur in µs
    rows = []
    for (op, elems), durations in sorted(groups.items()):
        n = elems * itemsize * (world_size if op == "all_gather" else 1)  # all_gather's input is one shard
        sent = bytes_per_rank(op, n, world_size)
        us = statistics.median(durations)
        rows.append(dict(op=op, input_elems=elems, calls=len(durations), nbytes=n, bytes_per_rank=sent,
                         median_us=us, busbw_gbs=sent / us / 1e3))
    return rows
