"""Build the parameter pytree from one PRNG key and show its leaves, shapes and size."""
from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
from tabulate import tabulate

from model import Config, count_params, init_params


def positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--layers", type=positive, default=Config.n_layers)
    args = ap.parse_args()
    cfg = Config(n_layers=args.layers)

    key = jax.random.key(args.seed)
    params = init_params(key, cfg)

    # tree_flatten_with_path names every leaf by its path through the dicts and lists.
    rows = []
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        rows.append([jax.tree_util.keystr(path), str(leaf.shape), leaf.size,
                     f"{float(jnp.std(leaf)):.3f}"])
    print(tabulate(rows, headers=["leaf", "shape", "params", "std"]))
    print(f"\nconfig: {cfg}")
    print(f"total parameters: {count_params(params):,}")

    # tree_map applies one function to every leaf and keeps the structure.
    sizes_in_kib = jax.tree_util.tree_map(lambda x: x.nbytes / 1024, params)
    print(f"float32 memory:   {sum(jax.tree_util.tree_leaves(sizes_in_kib)):.1f} KiB")

    # Explicit keys: the same key reproduces the same tree; split keys give new numbers.
    again = init_params(jax.random.key(args.seed), cfg)
    same = all(jax.tree_util.tree_leaves(jax.tree_util.tree_map(jnp.array_equal, params, again)))
    other = init_params(jax.random.split(key)[0], cfg)
    print(f"same key -> identical tree: {same}")
    print(f"split key -> embed differs: {not bool(jnp.array_equal(params['embed'], other['embed']))}")


if __name__ == "__main__":
    main()
