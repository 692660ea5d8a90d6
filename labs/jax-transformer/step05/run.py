"""The whole model under jax.jit: compile time and run time measured apart."""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
from dlc_shared.bench import write_result
from tabulate import tabulate

from model import Config, count_params, forward, forward_jit, init_params


def positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def median_seconds(fn, repeat: int) -> float:
    jax.block_until_ready(fn())  # warm-up: eager mode also compiles each op on first use
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())  # JAX dispatches asynchronously: wait for the result
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--layers", type=positive, default=Config.n_layers)
    ap.add_argument("--batch", type=positive, default=4)
    ap.add_argument("--seq", type=positive, default=64)
    ap.add_argument("--repeat", type=positive, default=10)
    ap.add_argument("--json", action="store_true", help="also write results/run.json (hardware, versions, numbers)")
    args = ap.parse_args()
    cfg = Config(n_layers=args.layers)
    if args.seq > cfg.max_seq_len:
        print(f"error: --seq must be <= {cfg.max_seq_len}", file=sys.stderr)
        sys.exit(2)

    params = init_params(jax.random.key(args.seed), cfg)
    tokens = jax.random.randint(jax.random.key(1), (args.batch, args.seq), 0, cfg.vocab_size)
    print(f"parameters: {count_params(params):,}   tokens: {tokens.shape}")

    # Split the first call into its parts: trace to a jaxpr/HLO, then compile it with XLA.
    t0 = time.perf_counter()
    lowered = forward_jit.lower(params, tokens, cfg=cfg)
    t1 = time.perf_counter()
    compiled = lowered.compile()
    t2 = time.perf_counter()
    logits = compiled(params, tokens)
    jit_run = median_seconds(lambda: compiled(params, tokens), args.repeat)
    eager_run = median_seconds(lambda: forward(params, tokens, cfg), max(2, args.repeat // 5))

    # The jitted function caches by shape: a new sequence length means a new compile.
    t3 = time.perf_counter()
    jax.block_until_ready(forward_jit(params, tokens[:, : args.seq // 2], cfg=cfg))
    recompile = time.perf_counter() - t3

    print(tabulate([["trace + lower (once per shape)", f"{(t1 - t0) * 1e3:.1f}"],
                    ["XLA compile (once per shape)", f"{(t2 - t1) * 1e3:.1f}"],
                    ["compiled call (median)", f"{jit_run * 1e3:.2f}"],
                    ["eager call, no jit (median)", f"{eager_run * 1e3:.2f}"],
                    [f"first call at seq {args.seq // 2} (recompiles)", f"{recompile * 1e3:.1f}"]],
                   headers=["what", "ms"]))
    print(f"\nlogits {logits.shape}; jit vs eager max |diff| "
          f"{float(jnp.abs(logits - forward(params, tokens, cfg)).max()):.1e}")
    if args.json:
        data = {"args": vars(args), "trace_lower_seconds": t1 - t0, "compile_seconds": t2 - t1,
                "compiled_call_seconds_median": jit_run, "eager_call_seconds_median": eager_run,
                "recompile_seconds": recompile}
        path = write_result("run", data, packages=("jax", "jaxlib", "flax", "optax"), out_dir=Path(__file__).parent / "results")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
