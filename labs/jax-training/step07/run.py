"""The same training in float32 and in bf16 compute with float32 parameters, side by side."""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import jax
import jax.numpy as jnp
from dlc_shared.bench import write_result
from dlc_shared.data import token_ids
from tabulate import tabulate

from model import Config
from train import evaluate, init_state, make_optimizer, make_train_step, train_steps, unigram_loss

DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


def positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=positive, default=16)
    ap.add_argument("--seq", type=positive, default=64)
    ap.add_argument("--steps", type=positive, default=100)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--warmup", type=int, default=15)
    ap.add_argument("--json", action="store_true", help="also write results/run.json (hardware, versions, numbers)")
    args = ap.parse_args()
    cfg = Config()
    if args.seq > cfg.max_seq_len:
        ap.error(f"--seq must be <= {cfg.max_seq_len}")
    if not 0 <= args.warmup < args.steps or args.steps < 2:
        ap.error("--steps must be >= 2 and --warmup in [0, --steps)")

    train_ids, val_ids = token_ids("train", cfg.vocab_size), token_ids("val", cfg.vocab_size)
    optimizer, _ = make_optimizer(args.lr, args.warmup, args.steps)
    curves, rows, records = {}, [], {}
    for name, dtype in DTYPES.items():
        train_step = make_train_step(optimizer, cfg, compute_dtype=dtype)
        state = init_state(jax.random.key(args.seed), cfg, optimizer)  # same start, same batches
        t0 = time.perf_counter()
        state, first = train_steps(state, train_step, train_ids, 1, args.batch, args.seq)  # compiles
        t1 = time.perf_counter()
        state, rest = train_steps(state, train_step, train_ids, args.steps, args.batch, args.seq)
        per_step = (time.perf_counter() - t1) / (args.steps - 1)
        curves[name] = first + rest
        dtypes = {str(x.dtype) for x in jax.tree_util.tree_leaves(state["params"])}
        val = evaluate(state["params"], val_ids, cfg)
        rows.append([name, f"{(t1 - t0) * 1e3:.0f}", f"{per_step * 1e3:.1f}", ",".join(sorted(dtypes)),
                     f"{statistics.mean(curves[name][-20:]):.3f}", f"{val:.3f}"])
        records[name] = {"first_step_seconds": t1 - t0, "step_seconds_mean": per_step, "params_dtypes": sorted(dtypes),
                         "train_loss_last20": statistics.mean(curves[name][-20:]), "val_loss": val,
                         "train_losses": curves[name]}
    print(tabulate(rows, headers=["compute", "first step ms (compile)", "step ms", "params dtype",
                                  "train loss (last 20)", "val loss"]))
    unigram = unigram_loss(train_ids, val_ids, cfg.vocab_size)
    print(f"unigram baseline {unigram:.3f}")
    diffs = [abs(a - b) for a, b in zip(curves["float32"], curves["bfloat16"])]
    print(f"|loss fp32 - loss bf16| per step: max {max(diffs):.3f}, mean {statistics.mean(diffs):.4f}")
    if args.json:
        speedup = records["float32"]["step_seconds_mean"] / records["bfloat16"]["step_seconds_mean"]
        data = {"args": vars(args), "results": records, "bf16_step_speedup_vs_float32": speedup,
                "loss_diff_max": max(diffs), "loss_diff_mean": statistics.mean(diffs), "unigram_val_loss": unigram}
        path = write_result("run", data, packages=("jax", "jaxlib", "flax", "optax"), out_dir=Path(__file__).parent / "results")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
