"""Profile one training step with torch.profiler and read the Chrome trace it writes.

The trace is a JSON file of events: every ATen op is a complete event ("ph": "X") with a start
`ts` and a duration `dur` in microseconds; ops that call other ops nest inside them on the same
thread. An op's *self* time is its duration minus the durations of the ops directly inside it.
With profile_memory=True every allocation and free is an instant event "[memory]" whose
"Total Allocated" is the allocator's running total, so its maximum is the step's peak.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile, record_function

from train import train_step


def profile_training(model, opt, x, y, trace_path: str | Path):
    """Run one warm-up step, then profile one step and write its Chrome trace to trace_path."""
    train_step(model, opt, x, y)  # first-call work (optimizer state, lazy init) stays out of the profile
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
    with profile(activities=activities, record_shapes=True, profile_memory=True) as prof:
        with record_function("train_step"):
            train_step(model, opt, x, y)
    prof.export_chrome_trace(str(trace_path))
    return prof


def load_trace(path: str | Path) -> list[dict]:
    return json.loads(Path(path).read_text())["traceEvents"]


def self_times_us(events: list[dict]) -> dict[str, dict]:
    """name -> {"calls", "self_us", "total_us"} over the CPU ops of a trace.

    Per thread, events sorted by start form a tree; a stack of open events finds each one's parent.
    """
    ops = [e for e in events if e.get("ph") == "X" and e.get("cat") == "cpu_op"]
    child_us = defaultdict(float)                   # index in ops -> summed duration of direct children
    by_thread = defaultdict(list)
    for i, e in enumerate(ops):
        by_thread[(e["pid"], e["tid"])].append(i)
    for idx in by_thread.values():
        idx.sort(key=lambda i: (ops[i]["ts"], -ops[i]["dur"]))   # a parent starts first (or ties, and is longer)
        stack: list[int] = []
        for i in idx:
            start = ops[i]["ts"]
            while stack and ops[stack[-1]]["ts"] + ops[stack[-1]]["dur"] <= start:
                stack.pop()                          # that event ended before this one starts
            if stack:
                child_us[stack[-1]] += ops[i]["dur"]
            stack.append(i)
    table: dict[str, dict] = defaultdict(lambda: {"calls": 0, "self_us": 0.0, "total_us": 0.0})
    for i, e in enumerate(ops):
        row = table[e["name"]]
        row["calls"] += 1
        row["self_us"] += e["dur"] - child_us[i]
        row["total_us"] += e["dur"]
    return dict(table)


def memory_timeline(events: list[dict]) -> list[tuple[float, int]]:
    """(µs since the first allocation, bytes allocated) after every CPU allocation or free."""
    mem = sorted((e for e in events if e.get("name") == "[memory]" and e["args"].get("Device Type") == 0),
                 key=lambda e: e["ts"])
    if not mem:
        return []
    t0 = mem[0]["ts"]
    return [(e["ts"] - t0, int(e["args"]["Total Allocated"])) for e in mem]


def summarize_trace(path: str | Path, top: int = 10) -> dict:
    """The numbers a reader wants first: the step's duration, top ops by self CPU time, the memory peak."""
    events = load_trace(path)
    step = next(e for e in events if e.get("cat") == "user_annotation" and e["name"] == "train_step")
    table = self_times_us(events)
    ranked = sorted(table.items(), key=lambda kv: kv[1]["self_us"], reverse=True)
    timeline = memory_timeline(events)
    start = timeline[0][1] if timeline else 0
    return {
        "step_us": step["dur"],
        "cpu_ops": sum(r["calls"] for r in table.values()),
        "self_us_sum": sum(r["self_us"] for r in table.values()),
        "top_self_cpu": [{"name": n, **r} for n, r in ranked[:top]],
        "memory_events": len(timeline),
        "memory_start_bytes": start,
        "memory_peak_bytes": max((b for _, b in timeline), default=0),
    }
