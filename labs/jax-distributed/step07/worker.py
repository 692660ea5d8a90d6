"""One process of a multi-process JAX training run (start one per process; launch.py starts them here).

Every process runs this same program. jax.distributed.initialize connects it to the
coordinator (process 0's address); after that jax.devices() lists the devices of all
processes, one mesh spans them, and each process feeds and holds only its own devices'
slices. The training step is the FSDP step of step 03, unchanged.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

TINY = dict(vocab_size=128, d_model=32, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=64, max_seq_len=16)


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--coordinator", required=True, help="host:port of process 0")
    ap.add_argument("--num-processes", type=int, required=True)
    ap.add_argument("--process-id", type=int, required=True)
    ap.add_argument("--local-devices", type=int, default=4, help="fake CPU devices in this process")
    ap.add_argument("--config", choices=["default", "tiny"], default="default")
    ap.add_argument("--ids", help=".npy of token ids (default: the corpus)")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--init-timeout", type=int, default=60, help="seconds to wait for the other processes")
    ap.add_argument("--out", required=True, help="directory for this process's results")
    args = ap.parse_args(argv)
    # Check what can be checked before JAX starts: a bad value fails fast, never at a barrier.
    if not 0 <= args.process_id < args.num_processes:
        ap.error(f"--process-id must be in [0, {args.num_processes}), got {args.process_id}")
    if args.local_devices < 1 or args.steps < 1:
        ap.error("--local-devices and --steps must be >= 1")
    total = args.num_processes * args.local_devices
    if args.batch % total:
        ap.error(f"--batch {args.batch} does not split over {total} devices")
    return args


def main(argv=None) -> None:
    args = parse(argv)
    # This process's share of the global mesh, set before JAX is imported (and starts its CPU backend).
    flags = [f for f in os.environ.get("XLA_FLAGS", "").split() if "host_platform_device_count" not in f]
    os.environ["XLA_FLAGS"] = " ".join([*flags, f"--xla_force_host_platform_device_count={args.local_devices}"])

    import jax
    import numpy as np
    from dlc_shared.data import token_ids
    from jax.experimental import multihost_utils
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    from model import Config
    from parallel import fsdp, make_mesh, make_sharded_train_step
    from train import batches, init_state, make_optimizer, train

    jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU collectives across processes
    jax.distributed.initialize(coordinator_address=args.coordinator, num_processes=args.num_processes,
                               process_id=args.process_id, initialization_timeout=args.init_timeout)
    try:
        cfg = Config(**TINY) if args.config == "tiny" else Config()
        ids = np.load(args.ids) if args.ids else token_ids("train", cfg.vocab_size)
        optimizer = make_optimizer(args.lr, 0, args.steps)
        mesh = make_mesh((jax.device_count(),), ("data",))  # all processes' devices
        abstract = jax.eval_shape(lambda k: init_state(k, cfg, optimizer), jax.random.key(args.seed))
        shardings, batch = fsdp(mesh, abstract), NamedSharding(mesh, P("data"))
        # Same key in every process, so the same numbers; each process computes only its slices.
        state = jax.jit(lambda k: init_state(k, cfg, optimizer), out_shardings=shardings)(jax.random.key(args.seed))

        def put(x, y):  # every process has the whole (small) batch; it hands over its devices' rows
            place = lambda a: jax.make_array_from_callback(a.shape, batch, lambda index: a[index])
            return place(x), place(y)

        step = make_sharded_train_step(optimizer, cfg, shardings, batch)
        data = batches(ids, args.seed, args.steps, args.batch, args.seq)
        state, losses = train(state, step, data, put=put)  # the loss is replicated: every process can read it

        wq = state["params"]["layers"][0]["wq"]
        report = {"process_index": jax.process_index(), "process_count": jax.process_count(),
                  "device_count": jax.device_count(), "local_device_ids": [d.id for d in jax.local_devices()],
                  "losses": losses, "wq_spec": str(wq.sharding.spec), "wq_fully_addressable": wq.is_fully_addressable,
                  "wq_local_shards": [[s.device.id, list(s.data.shape), s.index[0].start] for s in wq.addressable_shards]}
        full = multihost_utils.process_allgather(state["params"], tiled=True)  # a collective: every process joins
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"process{args.process_id}.json").write_text(json.dumps(report))
        if jax.process_index() == 0:
            leaves = jax.tree_util.tree_flatten_with_path(full)[0]
            np.savez(out / "params.npz", **{jax.tree_util.keystr(p): np.asarray(a) for p, a in leaves})
    finally:
        jax.distributed.shutdown()


if __name__ == "__main__":
    sys.exit(main())
