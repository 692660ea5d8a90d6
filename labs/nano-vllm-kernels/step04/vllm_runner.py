"""Run the real vLLM on a request list, in its own process, and write its tokens and timings as JSON.

    python vllm_runner.py MODEL_DIR REQUESTS.json OUT.json [--threads N] [--repeat N]

REQUESTS.json: [{"prompt": [token ids], "max_tokens": n, "ignore_eos": bool}, ...], greedy.
A separate process keeps vLLM's engine, threads and memory away from ours; it exits
with status 3 and one line on stderr when vLLM is not installed.
"""
import argparse
import json
import os
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir")
    parser.add_argument("requests")
    parser.add_argument("out")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--repeat", type=int, default=1, help="runs of the whole request list")
    args = parser.parse_args()
    # Facts measured on a CPU machine: a 1 GiB KV cache, no hub access, the engine core in this
    # process (so our clock sees each step), and eager mode (no torch.compile).
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    if args.threads:
        os.environ["VLLM_CPU_OMP_THREADS_BIND"] = f"0-{args.threads - 1}"
    try:
        import vllm
        from vllm import LLM, SamplingParams
    except ImportError as e:
        print(f"vLLM absent: {e}", file=sys.stderr)
        sys.exit(3)

    requests = json.loads(open(args.requests).read())
    llm = LLM(model=args.model_dir, dtype="float32", enforce_eager=True, skip_tokenizer_init=True,
              max_model_len=max(len(r["prompt"]) + r["max_tokens"] for r in requests), seed=0)
    engine = llm.llm_engine

    def run(reqs):
        for i, r in enumerate(reqs):
            params = SamplingParams(temperature=0.0, max_tokens=r["max_tokens"], ignore_eos=r.get("ignore_eos", False),
                                    detokenize=False)
            engine.add_request(str(i), {"prompt_token_ids": r["prompt"]}, params)
        tokens, first, finish = {}, {}, {}
        start = time.perf_counter()
        while engine.has_unfinished_requests():
            for out in engine.step():
                now = time.perf_counter() - start
                first.setdefault(out.request_id, now)
                tokens[out.request_id] = list(out.outputs[0].token_ids)
                if out.finished:
                    finish[out.request_id] = now
        ids = [str(i) for i in range(len(reqs))]
        return time.perf_counter() - start, [tokens[i] for i in ids], [first[i] for i in ids], [finish[i] for i in ids]

    run([dict(prompt=[3 + i] * 8, max_tokens=4) for i in range(4)])  # warm-up, with prompts not in the list
    runs = []
    for _ in range(args.repeat):
        llm.reset_prefix_cache()  # no head start from an earlier run of the same prompts
        seconds, tokens, first, finish = run(requests)
        runs.append(dict(seconds=seconds, first=first, finish=finish))
    with open(args.out, "w") as f:
        import torch  # vLLM's CPU worker (in this process) has set torch's threads: record what it chose
        json.dump(dict(version=vllm.__version__, tokens=tokens, runs=runs, torch_threads=torch.get_num_threads(),
                       omp_threads_bind=os.environ.get("VLLM_CPU_OMP_THREADS_BIND", "auto")), f)


if __name__ == "__main__":
    main()
