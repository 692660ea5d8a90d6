"""Train with optax AdamW (warmup + cosine, clipping): compile and step times apart."""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import jax
from dlc_shared.bench import write_result
from dlc_shared.data import token_ids
from tabulate import tabulate

from model import Config, count_params, init_params
from train import get_batch, make_optimizer, make_train_step, unigram_loss


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
    ap.add_argument("--steps", type=positive, default=150)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--warmup", type=int, default=15)
    ap.add_argument("--json", action="store_true", help="also write results/run.json (hardware, versions, numbers)")
    args = ap.parse_args()
    cfg = Config()
    if args.seq > cfg.max_seq_len:
        ap.error(f"--seq must be <= {cfg.max_seq_len}")
    if not 0 <= args.warmup < args.steps:
        ap.error("--warmup must be in [0, --steps)")

    train_ids, val_ids = token_ids("train", cfg.vocab_size), token_ids("val", cfg.vocab_size)
    key = jax.random.key(args.seed)
    k_init, k_data = jax.random.split(key)
    params = init_params(k_init, cfg)
    optimizer, schedule = make_optimizer(args.lr, args.warmup, args.steps)
    opt_state = optimizer.init(params)  # Adam's m and v: two more trees shaped like params
    n_state = sum(x.size for x in jax.tree_util.tree_leaves(opt_state))
    print(f"params {count_params(params):,} floats; optimizer state {n_state:,} (m, v and a step count)")
    train_step = make_train_step(optimizer, cfg)
    x, y = get_batch(train_ids, k_data, args.batch, args.seq)

    # Compile once, explicitly, so its cost is not hidden inside the first step.
    t0 = time.perf_counter()
    compiled = train_step.lower(params, opt_state, x, y).compile()
    compile_s = time.perf_counter() - t0

    rows, step_times, losses = [], [], []
    for step in range(args.steps):
        x, y = get_batch(train_ids, jax.random.fold_in(k_data, step), args.batch, args.seq)
        t = time.perf_counter()
        params, opt_state, loss, gnorm = compiled(params, opt_state, x, y)
        loss = float(loss)  # float() waits for the result, like block_until_ready
        step_times.append(time.perf_counter() - t)
        losses.append(loss)
        if step % 25 == 0 or step == args.steps - 1:
            rows.append([step, f"{float(schedule(step)):.2e}", f"{float(gnorm):.2f}", f"{loss:.3f}"])
    print(tabulate(rows, headers=["step", "lr", "grad norm (before clip)", "train loss"]))
    print("\n" + tabulate([["trace + compile (once)", f"{compile_s * 1e3:.0f}"],
                           ["jitted step (median)", f"{statistics.median(step_times) * 1e3:.1f}"]],
                          headers=["what", "ms"]))
    unigram = unigram_loss(train_ids, val_ids, cfg.vocab_size)
    print(f"tokens/step {args.batch * args.seq}; unigram baseline {unigram:.3f}")
    if args.json:
        data = {"args": vars(args), "compile_seconds": compile_s, "step_seconds_median": statistics.median(step_times),
                "step_seconds": step_times, "train_losses": losses, "unigram_val_loss": unigram}
        path = write_result("run", data, packages=("jax", "jaxlib", "flax", "optax"), out_dir=Path(__file__).parent / "results")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
