"""The model as Flax NNX modules: its parameter tree, the same logits, and nnx.jit."""
from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
from flax import nnx
from tabulate import tabulate

from model import Config, count_params, forward_jit, init_params
from nnx_model import Llama, from_params


def positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


@nnx.jit  # like jax.jit, but takes the module: it splits it into graphdef + state for us
def nnx_forward(model: Llama, tokens):
    return model(tokens)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--layers", type=positive, default=Config.n_layers)
    ap.add_argument("--batch", type=positive, default=4)
    ap.add_argument("--seq", type=positive, default=64)
    args = ap.parse_args()
    cfg = Config(n_layers=args.layers, max_seq_len=max(args.seq, Config.max_seq_len))

    # An NNX model initializes itself from an Rngs object (named PRNG key streams).
    own = Llama(cfg, nnx.Rngs(args.seed))
    graphdef, state = nnx.split(own, nnx.Param)  # static structure + a pytree of arrays
    rows = [[jax.tree_util.keystr(path), str(leaf.shape)]
            for path, leaf in jax.tree_util.tree_flatten_with_path(state)[0][:6]]
    print(tabulate(rows, headers=["nnx.state leaf (first 6)", "shape"]))
    n_own = sum(x.size for x in jax.tree_util.tree_leaves(state))
    print(f"NNX parameters: {n_own:,}   model.layers is {type(own.layers).__name__}")

    # The functional model's weights, loaded into NNX modules: the two must agree.
    params = init_params(jax.random.key(args.seed), cfg)
    model = from_params(params, cfg)
    print(f"functional parameters: {count_params(params):,}")
    tokens = jax.random.randint(jax.random.key(1), (args.batch, args.seq), 0, cfg.vocab_size)

    t0 = time.perf_counter()
    out = jax.block_until_ready(nnx_forward(model, tokens))
    first = time.perf_counter() - t0
    t1 = time.perf_counter()
    jax.block_until_ready(nnx_forward(model, tokens))
    second = time.perf_counter() - t1
    ref, _ = forward_jit(params, tokens, cfg=cfg)
    print(tabulate([["nnx.jit first call (trace + compile + run)", f"{first * 1e3:.1f}"],
                    ["nnx.jit second call", f"{second * 1e3:.2f}"]], headers=["what", "ms"]))
    print(f"\nNNX vs functional logits {out.shape}: max |diff| {float(jnp.abs(out - ref).max()):.1e}")

    # merge rebuilds the object from graphdef + state: the bridge back to pure functions.
    rebuilt = nnx.merge(*nnx.split(model))
    print(f"split -> merge -> same logits: {bool(jnp.array_equal(rebuilt(tokens), model(tokens)))}")


if __name__ == "__main__":
    main()
