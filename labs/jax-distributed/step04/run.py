"""Train on one device and with a parallel layout on 8 CPU devices; print both loss curves side by side."""
from __future__ import annotations

import os

N_DEVICES = 8
if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):  # before JAX starts
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={N_DEVICES}"

import argparse  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402
from dlc_shared.data import token_ids  # noqa: E402
from tabulate import tabulate  # noqa: E402

from model import Config  # noqa: E402
from jax.sharding import NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

from parallel import (collectives, fsdp, make_mesh, make_pmap_train_step, make_sharded_train_step,  # noqa: E402
                      replicate, replicated, split_batch, tensor_parallel)
from train import batches, init_state, make_optimizer, make_train_step, train  # noqa: E402


def run_pmap(cfg, optimizer, state0, data):
    step = make_pmap_train_step(optimizer, cfg, N_DEVICES)
    state, losses = train(replicate(state0, N_DEVICES), step, data,
                          put=lambda x, y: (split_batch(x, N_DEVICES), split_batch(y, N_DEVICES)))
    wq = state["params"]["layers"][0]["wq"]
    placement = [["layers[0].wq", wq.shape, "(pmap: leading axis)", wq.addressable_shards[0].data.shape]]
    return jax.tree_util.tree_map(lambda a: a[0], state["params"]), losses, placement


def run_sharded(cfg, optimizer, state0, data, shardings, batch):
    step = make_sharded_train_step(optimizer, cfg, shardings, batch)
    compiled = step.lower(state0["params"], state0["opt_state"], *data[0]).compile()
    put = lambda x, y: (jax.device_put(x, batch), jax.device_put(y, batch))
    state, losses = train(jax.device_put(state0, shardings), compiled, data, put=put)
    show = {"x (batch)": put(*data[0])[0], "embed": state["params"]["embed"],
            "layers[0].wq": state["params"]["layers"][0]["wq"], "layers[0].wo": state["params"]["layers"][0]["wo"],
            "layers[0].w_down": state["params"]["layers"][0]["w_down"]}
    placement = [[name, a.shape, a.sharding.spec, a.addressable_shards[0].data.shape] for name, a in show.items()]
    ops = ", ".join(f"{k} {v}" for k, v in collectives(compiled).items() if v)
    placement.append(["collectives in the step", "", "", ops or "none"])
    return state["params"], losses, placement


def run_dp(cfg, optimizer, state0, data):
    mesh = make_mesh((N_DEVICES,), ("data",))
    return run_sharded(cfg, optimizer, state0, data, replicated(mesh, state0), NamedSharding(mesh, P("data")))


def run_fsdp(cfg, optimizer, state0, data):
    mesh = make_mesh((N_DEVICES,), ("data",))
    return run_sharded(cfg, optimizer, state0, data, fsdp(mesh, state0), NamedSharding(mesh, P("data")))


def run_2d(cfg, optimizer, state0, data):
    mesh = make_mesh((N_DEVICES // 2, 2), ("data", "model"))
    return run_sharded(cfg, optimizer, state0, data, tensor_parallel(mesh, state0), NamedSharding(mesh, P("data")))


LAYOUTS = {"pmap": run_pmap, "dp": run_dp, "fsdp": run_fsdp, "2d": run_2d}


def positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--layout", choices=sorted(LAYOUTS), default=list(LAYOUTS)[-1])
    ap.add_argument("--steps", type=positive, default=8)
    ap.add_argument("--batch", type=positive, default=16)
    ap.add_argument("--seq", type=positive, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=1e-2)
    args = ap.parse_args()
    cfg = Config()
    if args.seq > cfg.max_seq_len:
        ap.error(f"--seq must be <= {cfg.max_seq_len}")
    if args.batch % N_DEVICES:  # (the 2d layout needs only N_DEVICES / 2; one rule keeps it simple)
        ap.error(f"--batch must be a multiple of the {N_DEVICES} devices, got {args.batch}")
    if jax.device_count() != N_DEVICES:
        raise SystemExit(f"expected {N_DEVICES} devices, JAX sees {jax.device_count()} (XLA_FLAGS={os.environ['XLA_FLAGS']!r})")

    data = batches(token_ids("train", cfg.vocab_size), args.seed, args.steps, args.batch, args.seq)
    optimizer = make_optimizer(args.lr, 0, args.steps)
    state0 = jax.jit(init_state, static_argnums=(1, 2))(jax.random.key(args.seed), cfg, optimizer)
    ref, ref_losses = train(state0, make_train_step(optimizer, cfg), data)
    params, losses, placement = LAYOUTS[args.layout](cfg, optimizer, state0, data)

    rows = [[s, f"{a:.6f}", f"{b:.6f}", f"{abs(a - b):.1e}"] for s, (a, b) in enumerate(zip(ref_losses, losses))]
    print(tabulate(rows, headers=["step", "loss, 1 device", f"loss, {args.layout}", "|diff|"], disable_numparse=True))
    diff = max(float(np.abs(np.asarray(a) - np.asarray(b)).max())
               for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(ref["params"])))
    print(f"max |param diff| after {args.steps} steps: {diff:.1e}\n")
    print(tabulate(placement, headers=["array", "global shape", "PartitionSpec", "shape on device 0"]))


if __name__ == "__main__":
    main()
