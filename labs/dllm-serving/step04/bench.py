"""Record tokens/s and exact match for each step count, beside the AR baseline (KV cache), in one run.

    flock -x /tmp/dlc-cpu.lock python bench.py --json
"""
import argparse
import statistics
import time

import torch
from tabulate import tabulate

from ar import solve
from dlc_shared.bench import write_result
from sweep import STEP_COUNTS, measure
from task import eval_problems, exact_match
from train import ar_model, mdm_model


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true", help="write results/steps_vs_quality.json")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per setting; the median is kept")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    torch.set_num_threads(1)                                    # one core: the numbers do not depend on the other
    problems = eval_problems()
    mdm, ar = mdm_model(), ar_model()
    tokens = sum(len(p) for p in problems)
    rows = []
    for steps in STEP_COUNTS:
        runs = [measure(mdm, problems, steps) for _ in range(args.repeat + 1)][1:]   # the first warms up
        row = runs[0] | {"seconds": statistics.median(r["seconds"] for r in runs)}
        row["tokens_per_s"] = round(tokens / row["seconds"], 1)
        row["all_seconds"] = [r["seconds"] for r in runs]
        rows.append(row)
    ar_times = []
    for _ in range(args.repeat + 1):
        t0 = time.perf_counter()
        out = solve(ar, problems)
        ar_times.append(time.perf_counter() - t0)
    ar_row = dict(decoder="AR + KV cache", exact_match=exact_match(problems, out),
                  seconds=statistics.median(ar_times[1:]), all_seconds=ar_times[1:])
    ar_row["tokens_per_s"] = round(tokens / ar_row["seconds"], 1)
    table = [[f"diffusion, {r['steps']} steps", f"{r['exact_match']:.3f}", r["forward_passes"],
              f"{r['tokens_per_s']:,.0f}"] for r in rows]
    table.append([ar_row["decoder"], f"{ar_row['exact_match']:.3f}", "-", f"{ar_row['tokens_per_s']:,.0f}"])
    print(tabulate(table, headers=["decoder", "exact match", "forward passes", "tokens/s"]))
    if args.json:
        path = write_result("steps_vs_quality", dict(problems=len(problems), answer_tokens=tokens, threads=1,
                                                     diffusion=rows, ar=ar_row))
        print("wrote", path)


if __name__ == "__main__":
    main()
