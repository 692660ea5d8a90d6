"""Benchmark helpers: time a callable, describe the machine, record JSON results.

A benchmark prints a table and, with --json, writes results/<name>.json holding
the hardware, library versions, the exact command, every sample and the median.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path


def time_fn(fn, *, warmup: int = 2, repeat: int = 10, sync=None) -> list[float]:
    """Seconds per call for `repeat` calls after `warmup` calls; `sync` waits for async work."""
    for _ in range(warmup):
        fn()
    if sync:
        sync()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        if sync:
            sync()
        samples.append(time.perf_counter() - t0)
    return samples


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware() -> dict:
    info = {"cpu": cpu_name(), "cores": os.cpu_count(), "platform": platform.platform()}
    try:
        import torch
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info


def versions(*packages: str) -> dict:
    out = {"python": platform.python_version()}
    for p in packages:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


def write_result(name: str, data: dict, *, packages=("torch", "numpy"), out_dir: str | Path = "results") -> Path:
    """Write results/<name>.json with hardware, versions and the command next to `data`."""
    record = {
        "name": name,
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "hardware": hardware(),
        "load_average_1_5_15min": [round(x, 2) for x in os.getloadavg()],  # > ~0.5 means something else ran
        "versions": versions(*packages),
        **data,
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
