"""value_and_grad on the next-token loss, and a few plain SGD steps without jit."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
from dlc_shared.bench import write_result
from dlc_shared.data import token_ids
from tabulate import tabulate

from model import Config, init_params
from train import get_batch, global_norm, loss_and_grad, sgd_update, unigram_loss


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
    ap.add_argument("--steps", type=positive, default=20)
    ap.add_argument("--lr", type=float, default=1.0)
    ap.add_argument("--json", action="store_true", help="also write results/run.json (hardware, versions, numbers)")
    args = ap.parse_args()
    cfg = Config()
    if args.seq > cfg.max_seq_len:
        ap.error(f"--seq must be <= {cfg.max_seq_len}")

    train_ids, val_ids = token_ids("train", cfg.vocab_size), token_ids("val", cfg.vocab_size)
    key = jax.random.key(args.seed)
    k_init, k_data = jax.random.split(key)
    params = init_params(k_init, cfg)

    x, y = get_batch(train_ids, k_data, args.batch, args.seq)
    loss, grads = loss_and_grad(params, x, y, cfg)
    same = jax.tree_util.tree_structure(grads) == jax.tree_util.tree_structure(params)
    print(f"loss {float(loss):.3f}; grads has the same tree structure as params: {same}")
    print(f"d loss / d lm_head: {grads['lm_head'].shape}, d loss / d layers[0].wq: {grads['layers'][0]['wq'].shape}")

    rows, losses, t0 = [], [], time.perf_counter()
    for step in range(args.steps):  # eager: every op dispatched one by one from Python
        x, y = get_batch(train_ids, jax.random.fold_in(k_data, step), args.batch, args.seq)
        loss, grads = loss_and_grad(params, x, y, cfg)
        params = sgd_update(params, grads, args.lr)
        losses.append(float(loss))
        if step % 5 == 0 or step == args.steps - 1:
            rows.append([step, f"{float(loss):.3f}", f"{float(global_norm(grads)):.3f}"])
    seconds, unigram = time.perf_counter() - t0, unigram_loss(train_ids, val_ids, cfg.vocab_size)
    print(tabulate(rows, headers=["step", "train loss", "grad norm"]))
    print(f"{args.steps} eager SGD steps: {seconds:.1f} s (unigram baseline {unigram:.3f})")
    if args.json:
        data = {"args": vars(args), "eager_seconds": seconds, "train_losses": losses, "unigram_val_loss": unigram}
        path = write_result("run", data, packages=("jax", "jaxlib", "flax", "optax"), out_dir=Path(__file__).parent / "results")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
