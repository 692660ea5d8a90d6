"""Timing a jitted forward and a train step with and without waiting for the result, in one run."""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import jax
from dlc_shared.bench import write_result
from tabulate import tabulate

from model import Config, forward_jit
from timing import time_calls, time_steps
from train import init_state, make_optimizer, make_train_step, random_batch


def positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch", type=positive, default=8)
    ap.add_argument("--seq", type=positive, default=64)
    ap.add_argument("--vocab", type=positive, default=512, help="a small vocabulary keeps compile time down")
    ap.add_argument("--n", type=positive, default=10, help="timed calls per measurement")
    ap.add_argument("--json", action="store_true", help="also write results/run.json (hardware, versions, numbers)")
    args = ap.parse_args()
    if args.seq > Config().max_seq_len:
        ap.error(f"--seq must be <= {Config().max_seq_len}")
    if args.vocab < 2:
        ap.error("--vocab must be >= 2")
    return args


def main() -> None:
    args = parse_args()
    cfg = Config(vocab_size=args.vocab)
    optimizer = make_optimizer()
    params, opt_state = init_state(jax.random.key(0), cfg, optimizer)
    x, y = random_batch(jax.random.key(1), cfg, args.batch, args.seq)
    step = make_train_step(optimizer, cfg)

    # The first call traces and compiles: time it on its own, never mixed into the run times.
    t0 = time.perf_counter()
    jax.block_until_ready(forward_jit(params, x, cfg))
    t1 = time.perf_counter()
    jax.block_until_ready(step(params, opt_state, x, y))
    t2 = time.perf_counter()
    first = {"forward": t1 - t0, "train_step": t2 - t1}

    fwd = {b: time_calls(lambda p, t: forward_jit(p, t, cfg), (params, x), args.n, block=b) for b in (False, True)}
    steps = time_steps(step, (params, opt_state), (x, y), args.n)
    ms = lambda s: statistics.median(s) * 1e3
    rows = [["forward", f"{first['forward'] * 1e3:.0f}", f"{ms(fwd[False]):.3f}", f"{ms(fwd[True]):.3f}"],
            ["train step", f"{first['train_step'] * 1e3:.0f}", f"{steps['dispatch_loop_seconds'] / args.n * 1e3:.3f}",
             f"{ms(steps['blocked_step_seconds']):.3f}"]]
    print(f"batch {args.batch} x seq {args.seq}, {args.n} calls each; medians (train step: loop mean without waiting)")
    print(tabulate(rows, headers=["program", "first call ms (trace+compile+run)", "no wait ms", "block_until_ready ms"]))
    loop = steps["dispatch_loop_seconds"] + steps["drain_seconds"]
    print(f"{args.n} train steps without waiting: loop {steps['dispatch_loop_seconds'] * 1e3:.1f} ms, "
          f"then waiting for the last result {steps['drain_seconds'] * 1e3:.1f} ms (sum {loop * 1e3:.1f} ms); "
          f"{args.n} awaited steps {sum(steps['blocked_step_seconds']) * 1e3:.1f} ms")
    if args.json:
        data = {"args": vars(args), "config": cfg.__dict__, "first_call_seconds": first,
                "forward_no_wait_seconds": fwd[False], "forward_blocked_seconds": fwd[True],
                "forward_no_wait_ms_median": ms(fwd[False]), "forward_blocked_ms_median": ms(fwd[True]),
                "step_dispatch_loop_seconds": steps["dispatch_loop_seconds"], "step_drain_seconds": steps["drain_seconds"],
                "step_blocked_seconds": steps["blocked_step_seconds"],
                "step_no_wait_ms_mean": steps["dispatch_loop_seconds"] / args.n * 1e3,
                "step_blocked_ms_median": ms(steps["blocked_step_seconds"]),
                "step_blocked_total_ms": sum(steps["blocked_step_seconds"]) * 1e3,
                "step_loop_plus_drain_ms": loop * 1e3}
        path = write_result("run", data, packages=("jax", "jaxlib", "optax"), out_dir=Path(__file__).parent / "results")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
