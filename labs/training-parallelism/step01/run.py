"""One training step taken apart: bytes of weights, gradients, Adam state and activations;
time of forward, backward and optimizer; then the losses of a short single-process run."""
from __future__ import annotations

import argparse

import torch
from tabulate import tabulate

from anatomy import activation_bytes, model_state_bytes, time_phases
from dlc_shared.bench import write_result
from train import TrainConfig, batch, make_model, make_optimizer, train_single


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'")
    return int(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=positive_int, default=5, help="optimizer steps of the short run")
    ap.add_argument("--batch-size", type=positive_int, default=8, help="the global batch, in sequences")
    ap.add_argument("--repeat", type=positive_int, default=20, help="timed steps (after 2 warm-up steps)")
    ap.add_argument("--threads", type=positive_int, default=1, help="CPU threads for torch")
    ap.add_argument("--json", action="store_true", help="write results/anatomy.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size)
    model = make_model(cfg)
    optimizer = make_optimizer(model, cfg)
    n = model.num_params()
    x, y = batch(0, cfg, model)
    times = time_phases(model, optimizer, x, y, repeat=args.repeat)
    mem = model_state_bytes(model, optimizer)
    mem["activations"] = activation_bytes(model, x, y)
    print(f"model: {n:,} parameters; batch {cfg.batch_size} x {cfg.block_size} tokens")
    print(tabulate([[k, f"{v:,}", v / n] for k, v in mem.items()],
                   headers=["memory", "bytes", "bytes/param"], floatfmt=".2f"))
    total = sum(times.values())
    print()
    print(tabulate([[k, v * 1e3, v / total] for k, v in times.items()],
                   headers=["phase", "ms (median)", "share"], floatfmt=(".0f", ".3f", ".2f")))
    losses = train_single(cfg)
    print()
    print(tabulate(list(enumerate(losses)), headers=["step", "loss (one process)"], floatfmt=".6f"))
    if args.json:
        path = write_result("anatomy", {"params": n, "batch_size": cfg.batch_size, "block_size": cfg.block_size,
                                        "threads": args.threads, "repeat": args.repeat, "bytes": mem,
                                        "median_ms": {k: round(v * 1e3, 4) for k, v in times.items()},
                                        "losses": losses})
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
