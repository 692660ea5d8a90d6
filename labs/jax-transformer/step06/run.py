"""Greedy generation with and without a KV cache: same tokens, different cost."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
from dlc_shared.bench import write_result
from tabulate import tabulate

from model import Config, count_params, generate, init_cache, init_params


def positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def timed_generate(params, prompt, n_new, cfg, use_cache):
    """Seconds for a warm-up run (tracing + compiling + running) and for the timed run after it."""
    t0 = time.perf_counter()
    jax.block_until_ready(generate(params, prompt, 2, cfg, use_cache))  # compiles every program used
    t1 = time.perf_counter()
    out = jax.block_until_ready(generate(params, prompt, n_new, cfg, use_cache))
    return out, t1 - t0, time.perf_counter() - t1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--layers", type=positive, default=Config.n_layers)
    ap.add_argument("--prompt", default="JAX is ", help="encoded as UTF-8 bytes: vocab 256")
    ap.add_argument("--new", type=positive, default=64, help="tokens to generate")
    ap.add_argument("--max-len", type=positive, default=512, help="cache and buffer length")
    ap.add_argument("--json", action="store_true", help="also write results/run.json (hardware, versions, numbers)")
    args = ap.parse_args()
    cfg = Config(n_layers=args.layers, max_seq_len=args.max_len)

    ids = list(args.prompt.encode("utf-8"))
    if not ids or len(ids) + args.new > cfg.max_seq_len:
        print(f"error: prompt bytes + --new must be 1-{cfg.max_seq_len}", file=sys.stderr)
        sys.exit(2)
    params = init_params(jax.random.key(args.seed), cfg)
    prompt = jnp.array([ids], dtype=jnp.int32)
    cache_bytes = sum(x.nbytes for x in jax.tree_util.tree_leaves(init_cache(cfg, 1)))
    print(f"parameters: {count_params(params):,}   KV cache for batch 1: {cache_bytes / 1024:.0f} KiB "
          f"(2 x {cfg.n_layers} layers x {cfg.n_kv_heads} kv heads x {cfg.max_seq_len} positions "
          f"x {cfg.head_dim} x 4 bytes)")

    rows, outs, records = [], {}, {}
    for use_cache in (True, False):
        out, warm, run = timed_generate(params, prompt, args.new, cfg, use_cache)
        outs[use_cache] = out
        records["kv_cache" if use_cache else "recompute"] = {"warmup_seconds": warm, "generate_seconds": run,
                                                             "tokens_per_second": args.new / run}
        rows.append(["KV cache" if use_cache else f"recompute all {cfg.max_seq_len} positions",
                     f"{warm * 1e3:.0f}", f"{run * 1e3:.1f}", f"{args.new / run:.0f}"])
    print(tabulate(rows, headers=["decoding", "compile+warm-up ms", f"{args.new} tokens ms", "tokens/s"]))
    same = bool(jnp.array_equal(outs[True], outs[False]))
    print(f"\ncached and uncached tokens identical: {same}")
    text = bytes(outs[True][0, len(ids):].tolist()).decode("utf-8", errors="replace")
    print(f"continuation (random weights, so noise): {text!r}")
    if args.json:
        speedup = records["recompute"]["generate_seconds"] / records["kv_cache"]["generate_seconds"]
        data = {"args": vars(args), "results": records, "kv_cache_speedup": speedup, "tokens_identical": same}
        path = write_result("run", data, packages=("jax", "jaxlib", "flax", "optax"), out_dir=Path(__file__).parent / "results")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
