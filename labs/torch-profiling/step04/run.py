"""Profile one training step of the lab's model: top ops by self CPU time and the memory timeline.

    python run.py                       # trace to a temporary file, summary printed
    python run.py --trace step.json     # keep the Chrome trace (open it in https://ui.perfetto.dev)
    python run.py --json                # also write results/profile.json (the summary, not the trace)
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
from tabulate import tabulate

from model import Config, LanguageModel
from profiling import load_trace, memory_timeline, profile_training, summarize_trace
from train import make_batch, make_optimizer


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-size", type=positive_int, default=8)
    ap.add_argument("--seq-len", type=positive_int, default=128, help="tokens per sequence (<= 128)")
    ap.add_argument("--n-layer", type=positive_int, default=2)
    ap.add_argument("--threads", type=positive_int, default=1, help="CPU threads for torch")
    ap.add_argument("--top", type=positive_int, default=10, help="rows of the top-ops table")
    ap.add_argument("--trace", type=Path, help="where to write the Chrome trace (default: a temporary file)")
    ap.add_argument("--json", action="store_true", help="write results/profile.json")
    args = ap.parse_args(argv)
    if args.seq_len > Config.block_size:
        ap.error(f"--seq-len {args.seq_len} is longer than the model's block_size {Config.block_size}")
    return args


def build(args):
    torch.manual_seed(0)
    cfg = Config(n_layer=args.n_layer)
    model = LanguageModel(cfg)
    x, y = make_batch(cfg.vocab_size, args.batch_size, args.seq_len)
    return model, make_optimizer(model), x, y


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    model, opt, x, y = build(args)
    with tempfile.TemporaryDirectory() as tmp:
        trace = args.trace or Path(tmp) / "trace.json"
        profile_training(model, opt, x, y, trace)
        summary = summarize_trace(trace, top=args.top)
        timeline = memory_timeline(load_trace(trace))
        size_mb = trace.stat().st_size / 1e6
    print(f"one training step, batch {args.batch_size} x {args.seq_len} tokens, {args.n_layer} layers: "
          f"{summary['step_us'] / 1e3:.1f} ms under the profiler, {summary['cpu_ops']} CPU ops, "
          f"trace {size_mb:.1f} MB" + (f" -> {args.trace}" if args.trace else " (temporary)"))
    total = summary["self_us_sum"]
    rows = [[r["name"], r["calls"], r["self_us"] / 1e3, 100 * r["self_us"] / total] for r in summary["top_self_cpu"]]
    print(tabulate(rows, headers=["op", "calls", "self CPU ms", "% of self"], floatfmt=".2f"))
    print(f"memory allocated during the step: peak {summary['memory_peak_bytes'] / 2**20:.2f} MiB "
          f"over {summary['memory_events']} allocations and frees")
    # A coarse timeline: the allocated bytes at ten evenly spaced moments of the step.
    if timeline:
        end = timeline[-1][0]
        marks, i = [], 0
        for k in range(10):
            t = end * k / 9
            while i + 1 < len(timeline) and timeline[i + 1][0] <= t:
                i += 1
            marks.append([f"{t / 1e3:.1f}", timeline[i][1] / 2**20])
        print(tabulate(marks, headers=["ms", "MiB allocated"], floatfmt=".2f"))
    if args.json:
        from dlc_shared.bench import write_result
        print(f"wrote {write_result('profile', {'args': {k: str(v) for k, v in vars(args).items()}, **summary})}")
    return summary


if __name__ == "__main__":
    main()
