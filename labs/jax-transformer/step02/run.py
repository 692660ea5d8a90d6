"""Token ids -> embeddings -> logits: the two ends of the model, with every shape printed."""
from __future__ import annotations

import argparse
import sys

import jax
import jax.numpy as jnp
from tabulate import tabulate

from model import Config, count_params, embed, init_params, lm_head


def positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--layers", type=positive, default=Config.n_layers)
    ap.add_argument("--text", default="hello, jax", help="encoded as UTF-8 bytes: vocab 256")
    args = ap.parse_args()
    cfg = Config(n_layers=args.layers)

    key = jax.random.key(args.seed)
    params = init_params(key, cfg)
    print(f"total parameters: {count_params(params):,}")

    ids = list(args.text.encode("utf-8"))
    if not ids or max(ids) >= cfg.vocab_size:
        print(f"error: --text must be non-empty UTF-8 with byte ids < {cfg.vocab_size}", file=sys.stderr)
        sys.exit(2)
    tokens = jnp.array([ids], dtype=jnp.int32)  # a batch of one sequence
    x = embed(params, tokens)
    logits = lm_head(params, x)
    print(tabulate([["tokens", str(tokens.shape), "(B, T) int32"],
                    ["embed(tokens)", str(x.shape), "(B, T, D)"],
                    ["lm_head(x)", str(logits.shape), "(B, T, V)"]],
                   headers=["tensor", "shape", "meaning"]))

    # Without any layer in between, the prediction after a byte depends only on that byte.
    top = jnp.argmax(logits[0], axis=-1)
    print("\nposition  byte  predicted next byte (random weights)")
    for t, (i, j) in enumerate(zip(ids, top.tolist())):
        print(f"{t:8d}  {chr(i)!r:>5}  {chr(j)!r}")


if __name__ == "__main__":
    main()
