"""The autoregressive baseline: train (once, cached) a causal model on the sorting task and decode it greedily."""
import argparse
import time

import torch
from tabulate import tabulate

from ar import generate_ar, generate_ar_nocache, solve
from task import eval_problems, exact_match
from train import ar_model


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--problems", type=int, default=500, help="how many test problems (default 500)")
    args = ap.parse_args()
    if args.problems < 1:
        ap.error("--problems must be at least 1")
    torch.set_num_threads(1)        # tiny matmuls: a second thread costs more than it gives
    problems = eval_problems(args.problems)
    model = ar_model()
    rows, outputs = [], {}
    for name, fn in [("no cache", generate_ar_nocache), ("KV cache", generate_ar)]:
        t0 = time.perf_counter()
        outputs[name] = solve(model, problems, fn)
        seconds = time.perf_counter() - t0
        tokens = sum(len(p) for p in problems)
        rows.append([name, f"{exact_match(problems, outputs[name]):.3f}", f"{tokens / seconds:,.0f}"])
    print(tabulate(rows, headers=["decoder", "exact match", "tokens/s (this run)"]))
    print("same tokens with and without the cache:", outputs["no cache"] == outputs["KV cache"])
    for p, out in list(zip(problems, outputs["KV cache"]))[:4]:
        print(" ".join(map(str, p)), "|", " ".join(map(str, out)))


if __name__ == "__main__":
    main()
