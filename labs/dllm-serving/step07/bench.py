"""Serving table: latency and throughput of the dLLM decoders beside the AR baseline, one batch of mixed lengths.

    python bench.py                                   # the table (run.py prints it too)
    flock -x /tmp/dlc-cpu.lock python bench.py --json # recorded in results/serving.json
"""
import argparse
import statistics
import time

import torch
from tabulate import tabulate

from ar import generate_ar, solve
from block import generate_block
from decode import generate_diffusion, mdm_logits
from dlc_shared.bench import write_result
from serving import generate_canvas_batch
from task import eval_problems, exact_match
from train import ar_model, block_model, mdm_model


def decoders(ar, mdm, blockwise):
    """name -> (model, function from the problem list to the answers)."""
    return {
        "AR + KV cache (a batch per length)": (ar, lambda m, ps: solve(m, ps, generate_ar)),
        "canvas, steps = n (a batch per length)": (mdm, lambda m, ps: solve(
            m, ps, lambda mm, p: generate_diffusion(mdm_logits(mm), p, p.shape[1]))),
        "canvas, steps = n (one padded batch)": (mdm, lambda m, ps: generate_canvas_batch(m, ps, 8)),
        "canvas, 2 steps (one padded batch)": (mdm, lambda m, ps: generate_canvas_batch(m, ps, 2)),
        "block 4 + exact prefix cache + threshold 0.9": (blockwise, lambda m, ps: solve(
            m, ps, lambda mm, p: generate_block(mm, p, 4, cache=True, attention="block", threshold=0.9))),
    }


def positions_run(model, fn, problems) -> int:
    """Positions the model computes (batch rows x sequence length, summed over calls)."""
    total = [0]

    def counted(idx, *a, **k):
        total[0] += idx.numel()
        return model(idx, *a, **k)
    fn(counted, problems)
    return total[0]


def measure(problems, repeat: int):
    table = decoders(ar_model(), mdm_model(), block_model())
    tokens = sum(len(p) for p in problems)
    for model, fn in table.values():                            # warm-up
        fn(model, problems[:40])
    times = {name: [] for name in table}
    outputs = {}
    for _ in range(repeat):                                     # interleaved: load changes hit every decoder alike
        for name, (model, fn) in table.items():
            t0 = time.perf_counter()
            outputs[name] = fn(model, problems)
            times[name].append(time.perf_counter() - t0)
    rows = []
    for name, (model, fn) in table.items():
        seconds = statistics.median(times[name])
        rows.append(dict(decoder=name, exact_match=exact_match(problems, outputs[name]),
                         positions_per_token=round(positions_run(model, fn, problems) / tokens, 2),
                         latency_s=round(seconds, 4), all_seconds=times[name],
                         tokens_per_s=round(tokens / seconds, 1)))
    return rows, tokens


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true", help="write results/serving.json")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per decoder; the median is kept")
    ap.add_argument("--problems", type=int, default=500, help="requests in the batch (default 500)")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.problems < 1:
        ap.error("--repeat and --problems must be at least 1")
    torch.set_num_threads(1)                                    # one core: the numbers do not depend on the other
    problems = eval_problems(args.problems)
    rows, tokens = measure(problems, args.repeat)
    print(f"{len(problems)} requests of 4 to 8 answer tokens ({tokens} tokens), all at once, one thread")
    print(tabulate([[r["decoder"], f"{r['exact_match']:.3f}", f"{r['positions_per_token']:.2f}",
                     f"{r['latency_s']:.3f}", f"{r['tokens_per_s']:,.0f}"] for r in rows],
                   headers=["decoder", "exact match", "positions / token", "latency (s)", "tokens/s"]))
    if args.json:
        print("wrote", write_result("serving", dict(problems=len(problems), answer_tokens=tokens, threads=1,
                                                      decoders=rows)))


if __name__ == "__main__":
    main()
