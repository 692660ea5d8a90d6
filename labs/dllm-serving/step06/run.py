"""Parallel decoding with a confidence threshold: fewer forward passes, and what it costs in accuracy."""
import argparse

import torch
from tabulate import tabulate

from ar import solve
from block import generate_block
from task import eval_problems, exact_match
from train import block_model

THRESHOLDS = (0.5, 0.7, 0.9, 0.99)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--problems", type=int, default=500, help="how many test problems (default 500)")
    args = ap.parse_args()
    if args.problems < 1:
        ap.error("--problems must be at least 1")
    torch.set_num_threads(1)        # tiny matmuls: a second thread costs more than it gives
    problems = eval_problems(args.problems)
    model = block_model()
    rows = []
    for threshold in (None, *THRESHOLDS):
        passes = []

        def counted(*a, **k):
            passes.append(a[0].shape[0])
            return model(*a, **k)
        decode = lambda m, p: generate_block(m, p, 4, cache=True, attention="block", threshold=threshold)  # noqa: E731
        out = solve(model, problems, decode)
        for p in problems[:100]:                 # alone: a batch runs until its slowest row is done
            decode(counted, torch.tensor([p]))
        name = "one token per step" if threshold is None else f"threshold {threshold}"
        rows.append([name, f"{exact_match(problems, out):.3f}", f"{len(passes) / 100:.2f}",
                     f"{sum(len(p) for p in problems[:100]) / len(passes):.2f}"])
    print("block 4 + exact prefix cache, the block-causal model of step 5")
    print(tabulate(rows, headers=["decoder", "exact match", "passes / problem (alone)", "tokens / pass"]))


if __name__ == "__main__":
    main()
