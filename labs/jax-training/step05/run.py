"""Train with AdamW, evaluate on held-out tokens before and after, then sample text."""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from dlc_shared.bench import write_result
from dlc_shared.data import get_tokenizer, token_ids
from tabulate import tabulate

from model import Config, count_params, init_params
from train import evaluate, get_batch, make_optimizer, make_train_step, sample, unigram_loss


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
    ap.add_argument("--prompt", default="def ")
    ap.add_argument("--new", type=positive, default=40, help="tokens to sample")
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--top-k", type=positive, default=40)
    ap.add_argument("--json", action="store_true", help="also write results/run.json (hardware, versions, numbers)")
    args = ap.parse_args()
    cfg = Config()
    if args.seq > cfg.max_seq_len:
        ap.error(f"--seq must be <= {cfg.max_seq_len}")
    if not 0 <= args.warmup < args.steps:
        ap.error("--warmup must be in [0, --steps)")
    if args.temperature <= 0:
        ap.error("--temperature must be > 0")

    train_ids, val_ids = token_ids("train", cfg.vocab_size), token_ids("val", cfg.vocab_size)
    tok = get_tokenizer(cfg.vocab_size)
    prompt_ids = tok.encode(args.prompt).ids
    if not prompt_ids or len(prompt_ids) + args.new > cfg.max_seq_len:
        ap.error(f"prompt tokens + --new must be 1-{cfg.max_seq_len}")
    key = jax.random.key(args.seed)
    k_init, k_data, k_sample = jax.random.split(key, 3)
    params = init_params(k_init, cfg)
    optimizer, schedule = make_optimizer(args.lr, args.warmup, args.steps)
    opt_state = optimizer.init(params)  # Adam's m and v: two more trees shaped like params
    print(f"params {count_params(params):,} floats")
    train_step = make_train_step(optimizer, cfg)
    val_before = evaluate(params, val_ids, cfg)

    rows, step_times, losses = [], [], []
    for step in range(args.steps):
        x, y = get_batch(train_ids, jax.random.fold_in(k_data, step), args.batch, args.seq)
        t = time.perf_counter()
        params, opt_state, loss, gnorm = train_step(params, opt_state, x, y)
        loss = float(loss)  # float() waits for the result, like block_until_ready
        step_times.append(time.perf_counter() - t)
        losses.append(loss)
        if step % 50 == 0 or step == args.steps - 1:
            rows.append([step, f"{float(schedule(step)):.2e}", f"{loss:.3f}"])
    print(tabulate(rows, headers=["step", "lr", "train loss"]))
    print(f"first step (compile + run) {step_times[0] * 1e3:.0f} ms; "
          f"later steps median {statistics.median(step_times[1:] or step_times) * 1e3:.1f} ms")

    unigram, val_after = unigram_loss(train_ids, val_ids, cfg.vocab_size), evaluate(params, val_ids, cfg)
    print("\n" + tabulate([["unigram baseline", f"{unigram:.3f}"],
                           ["model before training", f"{val_before:.3f}"],
                           ["model after training", f"{val_after:.3f}"]],
                          headers=["validation (8 x 16 x 64 tokens)", "loss"]))

    prompt = jnp.array([prompt_ids], dtype=jnp.int32)
    for label, temp, top_k in [(f"T={args.temperature}, top-k {args.top_k}", args.temperature, args.top_k),
                               ("T=0.01 (nearly greedy)", 0.01, None)]:
        out = sample(params, prompt, k_sample, args.new, cfg, temperature=temp, top_k=top_k)
        print(f"\n--- sample, {label} ---\n{tok.decode(np.asarray(out[0]).tolist())}")
    if args.json:
        data = {"args": vars(args), "first_step_seconds": step_times[0],
                "later_step_seconds_median": statistics.median(step_times[1:] or step_times), "step_seconds": step_times,
                "train_losses": losses, "unigram_val_loss": unigram, "val_loss_before": val_before, "val_loss_after": val_after}
        path = write_result("run", data, packages=("jax", "jaxlib", "flax", "optax"), out_dir=Path(__file__).parent / "results")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
