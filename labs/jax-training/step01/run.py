"""The next-token loss of an untrained model, beside the two numbers it must beat."""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import jax
import numpy as np
from dlc_shared.bench import write_result
from dlc_shared.data import get_tokenizer, token_ids
from tabulate import tabulate

from model import Config, init_params
from train import get_batch, loss_fn, unigram_loss


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
    ap.add_argument("--json", action="store_true", help="also write results/run.json (hardware, versions, numbers)")
    args = ap.parse_args()
    cfg = Config()
    if args.seq > cfg.max_seq_len:
        ap.error(f"--seq must be <= {cfg.max_seq_len}")

    train_ids, val_ids = token_ids("train", cfg.vocab_size), token_ids("val", cfg.vocab_size)
    tok = get_tokenizer(cfg.vocab_size)
    print(f"corpus tokens: train {len(train_ids):,}, val {len(val_ids):,}; vocab {cfg.vocab_size}")

    key = jax.random.key(args.seed)
    k_init, k_data = jax.random.split(key)
    params = init_params(k_init, cfg)
    x, y = get_batch(val_ids, k_data, args.batch, args.seq)
    print(f"batch x {x.shape}, y {y.shape}: y is x shifted left by one token")
    print(f"  x[0, :8] = {tok.decode(np.asarray(x[0, :8]).tolist())!r}")
    print(f"  y[0, :8] = {tok.decode(np.asarray(y[0, :8]).tolist())!r}")

    loss = float(loss_fn(params, x, y, cfg))
    unigram = unigram_loss(train_ids, val_ids, cfg.vocab_size)
    print("\n" + tabulate([["untrained model (this batch)", f"{loss:.3f}"],
                           ["uniform guess, ln V", f"{math.log(cfg.vocab_size):.3f}"],
                           ["unigram baseline (val)", f"{unigram:.3f}"]],
                          headers=["model", "loss (nats/token)"]))
    if args.json:
        data = {"args": vars(args), "train_tokens": len(train_ids), "val_tokens": len(val_ids),
                "untrained_loss": loss, "ln_V": math.log(cfg.vocab_size), "unigram_val_loss": unigram}
        path = write_result("run", data, packages=("jax", "jaxlib", "flax", "optax"), out_dir=Path(__file__).parent / "results")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
