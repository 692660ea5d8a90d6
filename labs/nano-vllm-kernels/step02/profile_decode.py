"""Where a decode step's time goes: torch.profiler over whole engine steps.

Prefill every request of a workload, then profile a few decode steps (one new token
for each of the running requests). torch.profiler records every aten op with its
*self* time: the time inside the op, its children excluded. Summed over all ops,
that is the time the CPU spent in kernels; the rest of the step's wall time is
Python and the framework around them (scheduler, input tensors, module calls).
Ops are also grouped by what they do for the model: matmuls, the KV gather, and so on.
"""
import argparse
import sys
import time

# What each op does for the model. An op not listed counts as "other".
CATEGORIES = {
    "matmul (Linear)": ("aten::mm", "aten::addmm", "aten::bmm"),
    "KV gather (block table -> contiguous)": ("aten::index", "aten::index_select"),
    "KV store (new token -> slot)": ("aten::index_put_", "aten::_index_put_impl_"),
    "attention (SDPA)": ("aten::_scaled_dot_product_flash_attention_for_cpu",
                         "aten::_scaled_dot_product_attention_math", "aten::_scaled_dot_product_efficient_attention",
                         "aten::_scaled_dot_product_flash_attention"),
    "elementwise (norms, SiLU, rope, residual)": ("aten::mul", "aten::add", "aten::sub", "aten::neg", "aten::pow",
                                                  "aten::rsqrt", "aten::mean", "aten::sum", "aten::silu", "aten::cat",
                                                  "aten::div", "aten::div_", "aten::add_", "aten::mul_", "aten::copy_",
                                                  "aten::to", "aten::_to_copy"),
    "sampling (argmax)": ("aten::argmax",),
}


def category_of(op: str) -> str:
    return next((name for name, ops in CATEGORIES.items() if op in ops), "other")


def profile_decode(engine, num_steps: int) -> dict:
    """Profile `num_steps` engine steps that must all be decode steps; return times per step in ms."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        for _ in range(num_steps):
            seqs = engine.step()
            if not seqs or seqs[0].num_completion_tokens < 2:  # a prefill step would blur the picture
                raise RuntimeError("a profiled step was not a decode step: give fewer steps or longer outputs")
        wall = time.perf_counter() - start
    ops = {e.key: (e.self_cpu_time_total / 1000 / num_steps, e.count // num_steps) for e in prof.key_averages()}
    in_ops = sum(ms for ms, _ in ops.values())
    by_category = {}
    for op, (ms, _) in ops.items():
        by_category[category_of(op)] = by_category.get(category_of(op), 0.0) + ms
    top = sorted(ops.items(), key=lambda kv: -kv[1][0])
    return dict(wall_ms=1000 * wall / num_steps, in_ops_ms=in_ops, outside_ops_ms=1000 * wall / num_steps - in_ops,
                categories=dict(sorted(by_category.items(), key=lambda kv: -kv[1])),
                top_ops=[dict(op=op, self_ms=ms, calls=calls) for op, (ms, calls) in top[:12]])


def main(argv=None):
    import bench
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(bench.PRESETS), help="profile the preset's model and requests "
                        "(default: the tiny model, 16 requests)")
    parser.add_argument("--steps", type=int, default=5, help="decode steps profiled")
    parser.add_argument("--json", action="store_true", help="also write results/profile.json")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be at least 1")

    import torch
    from tabulate import tabulate

    from engine import LLMEngine
    from sequence import SamplingParams
    from tiny_model import default_model_dir, make_tiny_qwen3

    if args.preset:
        p = bench.PRESETS[args.preset]
        folder, settings = bench.preset_model_dir(args.preset), dict(max_num_seqs=p["max_num_seqs"],
                                                                     num_kv_blocks=p["num_kv_blocks"])
        n, lo, hi = p["num_requests"], p["min_input"], p["max_input"]
    else:
        folder, settings, (n, lo, hi) = make_tiny_qwen3(default_model_dir()), dict(max_num_seqs=16), (16, 16, 64)
    engine = LLMEngine(folder, max_num_batched_tokens=4096, **settings)
    requests = bench.make_requests(argparse.Namespace(seed=0, num_requests=n, min_input=lo, max_input=hi,
                                                      min_output=args.steps + 4, max_output=args.steps + 4),
                                   engine.config.vocab_size)
    for prompt, _ in requests:
        engine.add_request(prompt, SamplingParams(max_tokens=args.steps + 4, ignore_eos=True))
    while any(not s.completion_token_ids for s in engine.scheduler.running) or engine.scheduler.waiting:
        engine.step()  # prefill everyone
    engine.step()  # one decode step unprofiled (warm-up)
    batch = len(engine.scheduler.running)
    plain = time.perf_counter()
    engine.step()
    plain_ms = 1000 * (time.perf_counter() - plain)
    r = profile_decode(engine, args.steps)
    print(f"decode steps of {batch} requests, {torch.get_num_threads()} torch threads; "
          f"{'preset ' + args.preset if args.preset else 'tiny model'}; one step without the profiler: {plain_ms:.1f} ms")
    print(tabulate([[o["op"], f"{o['self_ms']:.2f}", o["calls"]] for o in r["top_ops"]],
                   headers=["op", "self ms / step", "calls / step"]))
    print()
    rows = [[name, f"{ms:.2f}", f"{100 * ms / r['wall_ms']:.0f}%"] for name, ms in r["categories"].items()]
    rows.append(["outside any op (Python, framework)", f"{r['outside_ops_ms']:.2f}",
                 f"{100 * r['outside_ops_ms'] / r['wall_ms']:.0f}%"])
    print(tabulate(rows, headers=["where", "ms / step", "share"]))
    print(f"\nstep wall time under the profiler: {r['wall_ms']:.1f} ms (the profiler adds its own cost to every op)")
    if args.json:
        from dlc_shared.bench import write_result
        path = write_result("profile" + (f"-{args.preset}" if args.preset else ""),
                            {"settings": vars(args), "batch": batch, "torch_threads": torch.get_num_threads(),
                             "unprofiled_step_ms": plain_ms, **r}, packages=("torch",))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
