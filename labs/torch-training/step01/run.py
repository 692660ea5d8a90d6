"""Next-token loss on an untrained model (about ln V), then overfitting one batch to show it falls."""
from __future__ import annotations

import argparse
import math
import time

import torch
from tabulate import tabulate

from loss import inputs_and_targets, next_token_loss
from model import Llama, ModelConfig


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'")
    return int(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=positive_int, default=40, help="SGD steps on the one fixed batch")
    ap.add_argument("--batch-size", type=positive_int, default=4)
    ap.add_argument("--lr", type=float, default=0.5, help="plain SGD learning rate")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=positive_int, help="CPU threads for torch (default: torch's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if not 0 < args.lr < 100:
        ap.error(f"--lr must be in (0, 100), got {args.lr}")

    torch.manual_seed(args.seed)
    cfg = ModelConfig()
    model = Llama(cfg)
    print(f"model: {model.num_params():,} parameters, vocab V = {cfg.vocab_size}, context {cfg.block_size}")

    # Random tokens stand in for text until step 2 builds the corpus.
    tokens = torch.randint(cfg.vocab_size, (args.batch_size, cfg.block_size + 1))
    x, y = inputs_and_targets(tokens)
    with torch.no_grad():
        logits = model(x)
        ours = next_token_loss(logits, y).item()
        ref = torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten()).item()
    print(tabulate([["ln V (uniform guess)", math.log(cfg.vocab_size)],
                    ["untrained model, next_token_loss", ours],
                    ["untrained model, F.cross_entropy", ref]],
                   headers=["loss on a random batch", "nats"], floatfmt=".4f"))

    # Plain SGD on the same batch: the model memorizes it, so the loss heads toward 0.
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    rows, t0 = [], time.perf_counter()
    for step in range(1, args.steps + 1):
        loss = next_token_loss(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step == 1 or step % 10 == 0 or step == args.steps:
            rows.append([step, loss.item(), time.perf_counter() - t0])
    print("\noverfitting one fixed batch with SGD")
    print(tabulate(rows, headers=["step", "loss", "seconds"], floatfmt=".4f"))


if __name__ == "__main__":
    main()
