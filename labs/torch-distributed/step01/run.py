"""The single-process baseline: train a few steps and print the losses later steps must reproduce."""
from __future__ import annotations

import sys

from tabulate import tabulate

from train import build, parse_config, train


def main(argv=None) -> None:
    cfg, _ = parse_config(argv)
    model, _ = build(cfg)
    n = model.num_params()
    print(f"model: {n:,} parameters; fp32 weights + gradients + AdamW m and v = 16 x {n:,} = {16 * n:,} bytes")
    print(f"global batch: {cfg.batch_size} sequences x {cfg.block_size} tokens = "
          f"{cfg.batch_size * cfg.block_size} loss terms per step")
    _, history = train(cfg, log=lambda _: None)
    rows = [[i + 1, loss, norm, lr] for i, (loss, norm, lr)
            in enumerate(zip(history["loss"], history["grad_norm"], history["lr"]))]
    print(tabulate(rows, headers=["step", "loss", "grad norm", "lr"], floatfmt=("d", ".6f", ".4f", ".2e")))


if __name__ == "__main__":
    main(sys.argv[1:])
