"""A profiler trace of the running program, written to disk and summarized from the file.

`jax.profiler.trace(logdir)` records what the host and the XLA runtime did while the
block ran and writes it under logdir/plugins/profile/<run>/ as an XSpace protobuf
(*.xplane.pb, what TensorBoard and XProf read) and a Chrome trace (*.trace.json.gz,
what chrome://tracing and Perfetto read). The Chrome trace is plain gzipped JSON:
every complete event ("ph": "X") has a name, a start "ts" and a duration "dur" in
microseconds; the events of compiled programs carry their HLO module and op in "args".
"""
from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path

import jax


def capture(fn, args, n: int, logdir) -> Path:
    """Run fn(*args) n times (each awaited, each in a named step) under the profiler; return the trace file."""
    with jax.profiler.trace(str(logdir)):
        for i in range(n):
            with jax.profiler.StepTraceAnnotation("step", step_num=i):
                jax.block_until_ready(fn(*args))
    files = sorted(Path(logdir).glob("plugins/profile/*/*.trace.json.gz"))
    if not files:
        raise FileNotFoundError(f"no *.trace.json.gz under {logdir}/plugins/profile")
    return files[-1]


def load_events(path) -> list[dict]:
    """The complete ("X") events of a Chrome trace file, gzipped or not."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as f:
        trace = json.load(f)
    return [e for e in trace["traceEvents"] if e.get("ph") == "X"]


def summarize(path, top: int = 10) -> dict:
    """Time per HLO op of the compiled programs in a trace file, largest first.

    Returns {"ops": [(module, op, calls, total_us)], "kinds": [(kind, calls, total_us)], "op_us": total over
    all ops, "annotations": {name: calls}}. An op's kind is its name without the ".N" XLA numbers it with.
    Op events come from the runtime's thread and carry args hlo_module and hlo_op; everything
    else (Python functions, our named steps) is host activity.
    """
    ops, annotations = defaultdict(lambda: [0, 0.0]), defaultdict(int)
    for e in load_events(path):
        a = e.get("args", {})
        if "hlo_op" in a:
            entry = ops[(a.get("hlo_module", "?"), a["hlo_op"])]
            entry[0] += 1
            entry[1] += float(e["dur"])
        else:
            annotations[e["name"]] += 1
    ranked = sorted(((m, op, c, us) for (m, op), (c, us) in ops.items()), key=lambda r: -r[3])
    kinds = defaultdict(lambda: [0, 0.0])
    for _, op, c, us in ranked:
        k = kinds[op.split(".")[0]]
        k[0] += c
        k[1] += us
    kinds = sorted(((k, c, us) for k, (c, us) in kinds.items()), key=lambda r: -r[2])
    return {"ops": ranked[:top], "kinds": kinds, "op_us": sum(r[3] for r in ranked), "annotations": dict(annotations)}
