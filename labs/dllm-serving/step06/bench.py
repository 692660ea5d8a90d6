"""Record tokens/s, exact match and forward passes of threshold decoding beside one token per step.

    flock -x /tmp/dlc-cpu.lock python bench.py --json
"""
import argparse
import statistics
import time

import torch
from tabulate import tabulate

from ar import solve
from block import generate_block
from decode import generate_diffusion, mdm_logits
from dlc_shared.bench import write_result
from task import eval_problems, exact_match
from train import block_model, mdm_model

DECODERS = {   # name -> (which model, decoder); "block" models are the block-causal one
    "canvas, steps = n (full)": ("full", lambda m, p: generate_diffusion(mdm_logits(m), p, p.shape[1])),
    "block 4, no cache (full)": ("full", lambda m, p: generate_block(m, p, 4)),
    "block 4, prefix cache (full, approximate)": ("full", lambda m, p: generate_block(m, p, 4, cache=True)),
    "block 4, no cache (block-causal)": ("block", lambda m, p: generate_block(m, p, 4, attention="block")),
    "block 4, prefix cache (block-causal, exact)": ("block", lambda m, p: generate_block(m, p, 4, cache=True,
                                                                                       attention="block")),
}
THRESHOLDS = (0.5, 0.7, 0.9, 0.99)
for _t in THRESHOLDS:
    DECODERS[f"block 4, prefix cache (block-causal, exact), threshold {_t}"] = (
        "block", (lambda t: lambda m, p: generate_block(m, p, 4, cache=True, attention="block", threshold=t))(_t))
NO_CACHE = {"block 4, prefix cache (full, approximate)": "block 4, no cache (full)",
            "block 4, prefix cache (block-causal, exact)": "block 4, no cache (block-causal)"}


def passes_per_problem(model, problems, fn) -> float:
    """Forward passes per problem, counted by wrapping the model (one batch per length, as solve runs)."""
    calls = []

    def counted(*a, **k):
        calls.append(a[0].shape[0])
        return model(*a, **k)
    solve(counted, problems, fn)
    return sum(calls) / len(problems)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true", help="write results/threshold.json")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per decoder; the median is kept")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    torch.set_num_threads(1)                                    # one core: the numbers do not depend on the other
    problems = eval_problems()
    models = {"full": mdm_model(), "block": block_model()}
    tokens = sum(len(p) for p in problems)
    rows, outputs = [], {}
    for _ in range(2):                                          # warm-up
        for kind, fn in DECODERS.values():
            solve(models[kind], problems[:50], fn)
    times = {name: [] for name in DECODERS}
    for _ in range(args.repeat):                                # interleaved: load changes hit every decoder alike
        for name, (kind, fn) in DECODERS.items():
            t0 = time.perf_counter()
            outputs[name] = solve(models[kind], problems, fn)
            times[name].append(time.perf_counter() - t0)
    for name in DECODERS:
        seconds = statistics.median(times[name])
        ref = outputs[NO_CACHE.get(name, name)]
        same = sum(a == b for a, b in zip(outputs[name], ref)) / len(problems)
        kind, fn = DECODERS[name]
        rows.append(dict(decoder=name, exact_match=exact_match(problems, outputs[name]), same_as_no_cache=same,
                         passes_per_problem=passes_per_problem(models[kind], problems, fn),
                         seconds=seconds, all_seconds=times[name], tokens_per_s=round(tokens / seconds, 1)))
    seconds = {r["decoder"]: r["seconds"] for r in rows}
    for r in rows:
        r["speedup_vs_no_cache"] = round(seconds[NO_CACHE.get(r["decoder"], r["decoder"])] / r["seconds"], 2)
    print(tabulate([[r["decoder"], f"{r['exact_match']:.3f}", f"{r['passes_per_problem']:.2f}",
                     f"{r['tokens_per_s']:,.0f}", f"{r['speedup_vs_no_cache']:.2f}x"] for r in rows],
                   headers=["decoder", "exact match", "passes / problem", "tokens/s", "speed-up vs no cache"]))
    if args.json:
        path = write_result("threshold", dict(problems=len(problems), answer_tokens=tokens, threads=1,
                                                decoders=rows))
        print("wrote", path)


if __name__ == "__main__":
    main()
