"""Canvas decoding with confidence-based unmasking, beside random and left-to-right unmasking."""
import argparse

import torch
from tabulate import tabulate

from ar import solve
from decode import generate_diffusion, mdm_logits
from task import eval_problems, exact_match
from train import mdm_model


def show(tokens):
    return " ".join("_" if t == 11 else str(t) for t in tokens)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--problems", type=int, default=500, help="how many test problems (default 500)")
    args = ap.parse_args()
    if args.problems < 1:
        ap.error("--problems must be at least 1")
    torch.set_num_threads(1)        # tiny matmuls: a second thread costs more than it gives
    problems = eval_problems(args.problems)
    model = mdm_model()
    rows = []
    for order in ("confidence", "random", "left-to-right"):
        out = solve(model, problems, lambda m, p: generate_diffusion(mdm_logits(m), p, p.shape[1], order))
        rows.append([order, f"{exact_match(problems, out):.3f}"])
    print("[1] one token per step (steps = n): exact match by unmasking order")
    print(tabulate(rows, headers=["order", "exact match"]))
    prompt = torch.tensor([[7, 2, 9, 4, 4, 0, 6, 1]])
    trace = []
    generate_diffusion(mdm_logits(model), prompt, 8, "confidence", trace=trace)
    print("\n[2] the canvas after each step, confidence order, prompt", show(prompt[0].tolist()))
    for i, c in enumerate(trace, 1):
        print(f"  step {i}: {show(c[0].tolist())}")


if __name__ == "__main__":
    main()
