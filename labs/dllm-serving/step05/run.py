"""Block diffusion: one token per step, block by block, with and without the prefix KV cache."""
import argparse

import torch
from tabulate import tabulate

from ar import solve
from block import generate_block
from decode import generate_diffusion, mdm_logits
from task import eval_problems, exact_match
from train import block_model, mdm_model


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--problems", type=int, default=500, help="how many test problems (default 500)")
    args = ap.parse_args()
    if args.problems < 1:
        ap.error("--problems must be at least 1")
    torch.set_num_threads(1)        # tiny matmuls: a second thread costs more than it gives
    problems = eval_problems(args.problems)
    full, blockwise = mdm_model(), block_model()
    rows = []
    out = solve(full, problems, lambda m, p: generate_diffusion(mdm_logits(m), p, p.shape[1]))
    rows.append(["full", "canvas, steps = n", f"{exact_match(problems, out):.3f}", "-", "-", "-"])
    for name, model in (("full", full), ("block", blockwise)):
        plain = solve(model, problems, lambda m, p: generate_block(m, p, 4, attention=name))
        drift, counts = [], []
        cached = solve(model, problems, lambda m, p: generate_block(m, p, 4, cache=True, attention=name,
                                                                    drift=drift, counts=counts))
        same = sum(a == b for a, b in zip(plain, cached)) / len(problems)
        rows.append([name, "block 4, no cache", f"{exact_match(problems, plain):.3f}", "-", "-", "-"])
        rows.append([name, "block 4, prefix cache", f"{exact_match(problems, cached):.3f}", f"{same:.3f}",
                     f"{max(drift):.2e}", f"{sum(counts) / len(counts):.1f}"])
    print("one token per step; 'full' is the model of step 2, 'block' the block-causal model trained here")
    print(tabulate(rows, headers=["attention", "decoder", "exact match", "same answers as no cache",
                                  "max |logit drift|", "positions / pass"]))


if __name__ == "__main__":
    main()
