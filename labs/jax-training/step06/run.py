"""Train, save a checkpoint halfway, resume from it, and check the loss curve is unchanged."""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import jax
import numpy as np
from dlc_shared.bench import write_result
from dlc_shared.data import token_ids
from tabulate import tabulate

from model import Config
from train import (evaluate, init_state, load_checkpoint, make_optimizer, make_train_step, save_checkpoint,
                   train_steps, unigram_loss)


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
    ap.add_argument("--ckpt", type=Path, default=None, help="checkpoint file (default: a temporary one)")
    ap.add_argument("--json", action="store_true", help="also write results/run.json (hardware, versions, numbers)")
    args = ap.parse_args()
    cfg = Config()
    if args.seq > cfg.max_seq_len:
        ap.error(f"--seq must be <= {cfg.max_seq_len}")
    if not 0 <= args.warmup < args.steps or args.steps < 2:
        ap.error("--steps must be >= 2 and --warmup in [0, --steps)")
    if args.ckpt is not None and not args.ckpt.parent.is_dir():
        ap.error(f"--ckpt: folder {args.ckpt.parent} does not exist")

    train_ids, val_ids = token_ids("train", cfg.vocab_size), token_ids("val", cfg.vocab_size)
    optimizer, _ = make_optimizer(args.lr, args.warmup, args.steps)
    train_step = make_train_step(optimizer, cfg)
    half = args.steps // 2

    t0 = time.perf_counter()
    full, full_losses = train_steps(init_state(jax.random.key(args.seed), cfg, optimizer), train_step,
                                    train_ids, args.steps, args.batch, args.seq)
    uninterrupted_s = time.perf_counter() - t0
    print(f"uninterrupted: {args.steps} steps in {uninterrupted_s:.1f} s (first step includes compile)")

    with tempfile.TemporaryDirectory() as tmp:
        path = args.ckpt or Path(tmp) / "ckpt.npz"
        first, first_losses = train_steps(init_state(jax.random.key(args.seed), cfg, optimizer), train_step,
                                          train_ids, half, args.batch, args.seq)
        save_checkpoint(path, first)
        ckpt_kib = path.stat().st_size / 1024
        print(f"saved step {half} to {path} ({ckpt_kib:.0f} KiB)")
        # A "new process": a template from another seed, overwritten entirely by the checkpoint.
        template = init_state(jax.random.key(args.seed + 1), cfg, optimizer)
        resumed, rest_losses = train_steps(load_checkpoint(path, template), train_step,
                                           train_ids, args.steps, args.batch, args.seq)

    curve = first_losses + rest_losses
    rows = [[s, f"{full_losses[s]:.6f}", f"{curve[s]:.6f}"]
            for s in sorted({0, half - 1, half, args.steps - 1} | set(range(0, args.steps, 50)))]
    print(tabulate(rows, headers=["step", "uninterrupted loss", "saved + resumed loss"]))
    same_params = all(np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves(full["params"]),
                                                           jax.tree_util.tree_leaves(resumed["params"])))
    print(f"loss curves identical: {full_losses == curve}; final params identical: {same_params}")
    val, unigram = evaluate(resumed["params"], val_ids, cfg), unigram_loss(train_ids, val_ids, cfg.vocab_size)
    print(f"val loss {val:.3f} (unigram baseline {unigram:.3f})")
    if args.json:
        data = {"args": {**vars(args), "ckpt": str(args.ckpt)}, "uninterrupted_seconds": uninterrupted_s,
                "checkpoint_kib": ckpt_kib, "train_losses": full_losses, "curves_identical": full_losses == curve,
                "params_identical": same_params, "val_loss": val, "unigram_val_loss": unigram}
        path = write_result("run", data, packages=("jax", "jaxlib", "flax", "optax"), out_dir=Path(__file__).parent / "results")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
