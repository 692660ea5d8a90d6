"""Run requests through an engine core whose model lives in a worker process; show what crosses the boundary."""
import argparse
import os
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", help="a Hugging Face Qwen3 folder (default: a tiny seeded one, built once)")
    parser.add_argument("--num-prompts", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=4)
    parser.add_argument("--num-workers", type=int, default=1, help="worker processes (each holds the whole model)")
    args = parser.parse_args(argv)
    if min(args.num_prompts, args.max_tokens, args.num_workers) < 1:
        parser.error("--num-prompts, --max-tokens and --num-workers must be at least 1")

    from tabulate import tabulate

    from engine_core import EngineCore
    from messages import EngineCoreRequest, SamplingParams, encoder
    from tiny_model import default_model_dir, make_tiny_qwen3, random_prompts

    folder = str(args.model or make_tiny_qwen3(default_model_dir()))
    if not os.path.isfile(os.path.join(folder, "config.json")):
        sys.exit(f"error: cannot load a Qwen3 model from '{folder}': no config.json there")
    prompts = random_prompts(args.num_prompts, 3, 20, 512, seed=1)
    results = {}
    for executor in ("uni", "mp"):
        core = EngineCore(folder, executor=executor, num_workers=args.num_workers if executor == "mp" else 1,
                          block_size=4)
        if executor == "mp":
            print(f"engine core: pid {os.getpid()}; workers: pids {[p.pid for p in core.executor.procs]}")
        for i, p in enumerate(prompts):
            core.add_request(EngineCoreRequest(f"r{i}", p, SamplingParams(max_tokens=args.max_tokens), 0.0))
        rows, tokens = [], {}
        while core.has_unfinished_requests():
            outs = core.step()
            so = core.last_scheduler_output
            for o in outs:
                tokens.setdefault(o.request_id, []).extend(o.new_token_ids)
            rows.append([len(rows), len(so.scheduled_new_reqs), len(so.scheduled_cached_reqs),
                         sum(len(r.new_block_ids) for r in so.scheduled_cached_reqs), len(so.finished_req_ids),
                         len(encoder().encode(so))])
        results[executor] = [tokens[f"r{i}"] for i in range(len(prompts))]
        if executor == "mp":
            print(tabulate(rows, headers=["step", "new reqs", "cached reqs", "new blocks", "finished ids",
                                          "SchedulerOutput bytes"]))
        core.shutdown()
    print(f"\ntokens from the worker process: {results['mp']}")
    print(f"same as the worker inside the engine core (uni): {results['mp'] == results['uni']}")
    return 0 if results["mp"] == results["uni"] else 1


if __name__ == "__main__":
    sys.exit(main())
