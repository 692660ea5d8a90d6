"""One attention layer: shapes through GQA, causality, and RoPE's relative positions."""
from __future__ import annotations

import argparse
import sys

import jax
import jax.numpy as jnp
from tabulate import tabulate

from model import Config, apply_rope, attention, count_params, embed, init_params, rope_tables


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
    if not ids or max(ids) >= cfg.vocab_size or len(ids) > cfg.max_seq_len:
        print(f"error: --text must be 1-{cfg.max_seq_len} UTF-8 bytes", file=sys.stderr)
        sys.exit(2)
    tokens = jnp.array([ids], dtype=jnp.int32)  # a batch of one sequence
    t = len(ids)
    x = embed(params, tokens)
    cos, sin = rope_tables(cfg, jnp.arange(t))
    y = attention(params["layers"][0], x, cos, sin, cfg)
    h, kv, hd = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
    print(tabulate([["x", str(x.shape), "(B, T, D)"],
                    ["q", f"(1, {h}, {t}, {hd})", "(B, H, T, hd)"],
                    ["k, v", f"(1, {kv}, {t}, {hd})", f"(B, KV, T, hd): {h // kv} query heads share one"],
                    ["scores", f"(1, {kv}, {h // kv}, {t}, {t})", "(B, KV, group, T, T)"],
                    ["attention(x)", str(y.shape), "(B, T, D)"]],
                   headers=["tensor", "shape", "meaning"]))

    # Causal: changing the last token must leave every earlier output unchanged.
    x2 = x.at[0, -1].set(x[0, 0])
    y2 = attention(params["layers"][0], x2, cos, sin, cfg)
    print(f"\nchange last token: max change at earlier positions {float(jnp.abs(y2 - y)[0, :-1].max()):.1e}, "
          f"at the last {float(jnp.abs(y2 - y)[0, -1].max()):.1e}")

    # RoPE: the q.k score depends on the distance m - n only, not on m and n.
    q = jax.random.normal(jax.random.key(1), (1, 1, 1, hd))
    k = jax.random.normal(jax.random.key(2), (1, 1, 1, hd))
    rows = []
    for m, n in [(3, 1), (10, 8), (100, 98), (10, 1)]:
        cq, sq = rope_tables(cfg, jnp.array([m]))
        ck, sk = rope_tables(cfg, jnp.array([n]))
        score = float(jnp.sum(apply_rope(q, cq, sq) * apply_rope(k, ck, sk)))
        rows.append([m, n, m - n, f"{score:+.5f}"])
    print("\n" + tabulate(rows, headers=["query pos m", "key pos n", "m - n", "rotated q.k"]))


if __name__ == "__main__":
    main()
