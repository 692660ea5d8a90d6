"""Steps vs quality: exact match and speed for 1, 2, 4 and 8 denoising steps, plotted."""
import argparse
from pathlib import Path

import torch
from tabulate import tabulate

from sweep import STEP_COUNTS, measure
from task import eval_problems
from train import mdm_model


def plot_steps_vs_quality(rows, path: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    steps = [r["steps"] for r in rows]
    ax.plot(steps, [r["exact_match"] for r in rows], "o-", color="tab:blue")
    ax.set_xscale("log", base=2)
    ax.set_xticks(steps, [str(s) for s in steps])
    ax.set_xlabel("denoising steps (answer of 8 tokens)")
    ax.set_ylabel("exact match", color="tab:blue")
    ax.set_ylim(0, 1)
    speed = ax.twinx()
    speed.plot(steps, [r["tokens_per_s"] for r in rows], "s--", color="tab:orange")
    speed.set_ylabel("tokens/s (this run)", color="tab:orange")
    ax.set_title("Fewer steps: faster, and more mixed answers")
    fig.tight_layout()
    path.parent.mkdir(exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--problems", type=int, default=500, help="how many test problems (default 500)")
    ap.add_argument("--plot", default="results/steps_vs_quality.png", help="where to draw the curve")
    args = ap.parse_args()
    if args.problems < 1:
        ap.error("--problems must be at least 1")
    torch.set_num_threads(1)        # tiny matmuls: a second thread costs more than it gives
    problems = eval_problems(args.problems)
    model = mdm_model()
    rows = [measure(model, problems, s) for s in STEP_COUNTS]
    print(tabulate([[r["steps"], r["forward_passes"], f"{r['exact_match']:.3f}", f"{r['tokens_per_s']:,.0f}"]
                    for r in rows], headers=["steps", "forward passes", "exact match", "tokens/s (this run)"]))
    plot_steps_vs_quality(rows, Path(args.plot))
    print("plot:", args.plot)


if __name__ == "__main__":
    main()
