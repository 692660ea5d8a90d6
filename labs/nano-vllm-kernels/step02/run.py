"""Serve a few requests (some of them bad) through the engine and check them against transformers."""
import argparse
import sys
import time


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", help="a Hugging Face model folder (default: a tiny seeded Qwen3, built once)")
    parser.add_argument("--num-prompts", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--max-num-seqs", type=int, default=4, help="requests running at once")
    parser.add_argument("--num-kv-blocks", type=int, default=14, help="blocks in the KV pool (small: forces preemption)")
    parser.add_argument("--block-size", type=int, default=4, help="token slots per block")
    parser.add_argument("--device", default="cuda" if _cuda() else "cpu", choices=["cpu", "cuda"])
    parser.add_argument("--bench-requests", type=int, default=16, help="requests for the throughput table (0: skip)")
    args = parser.parse_args(argv)
    if min(args.num_prompts, args.max_tokens, args.max_num_seqs, args.num_kv_blocks, args.block_size) < 1:
        parser.error("--num-prompts, --max-tokens, --max-num-seqs, --num-kv-blocks and --block-size must be at least 1")
    if args.bench_requests < 0:
        parser.error("--bench-requests must be at least 0 (0: skip the throughput table)")
    if args.device == "cuda" and not _cuda():
        parser.error("--device cuda: this machine has no CUDA GPU")

    import torch
    from tabulate import tabulate
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging
    logging.disable_progress_bar()

    from llm import LLM, SamplingParams
    from tiny_model import default_model_dir, make_tiny_qwen3, random_prompts

    folder = args.model or make_tiny_qwen3(default_model_dir())
    try:
        engine = LLM(folder, max_num_seqs=args.max_num_seqs, num_kv_blocks=args.num_kv_blocks,
                           block_size=args.block_size, device=args.device)
    except (OSError, KeyError, ValueError, RuntimeError) as e:
        sys.exit(f"error: cannot load a Qwen3 model from '{folder}': {e}")
    reference = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    config = engine.config
    system = random_prompts(1, 12, 12, config.vocab_size, seed=2)[0]  # a "system prompt" every request shares
    prompts = [system + tail for tail in random_prompts(args.num_prompts, 3, 12, config.vocab_size, seed=1)]
    params = [SamplingParams(max_tokens=args.max_tokens)] * len(prompts)
    # Three bad requests ride along: each must fail alone, with a reason.
    prompts += [[], [5] * engine.max_model_len, [7, 8, 9]]
    params += [SamplingParams(max_tokens=4), SamplingParams(max_tokens=4), SamplingParams(max_tokens=0)]

    t0 = time.perf_counter()
    outputs = engine.generate(prompts, params)
    elapsed = time.perf_counter() - t0

    rows, all_same = [], True
    for prompt, sp, out in zip(prompts, params, outputs):
        same = ""
        if out.finish_reason != "error":
            ids = torch.tensor([prompt])
            ref = reference.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=sp.max_tokens,
                                     do_sample=False, eos_token_id=config.eos_token_id,
                                     pad_token_id=0)[0, len(prompt):].tolist()
            same = "yes" if out.token_ids == ref else "NO"
            all_same &= out.token_ids == ref
        shown = out.error if out.error else " ".join(map(str, out.token_ids))
        rows.append([out.request_id, len(prompt), out.num_cached_tokens, out.finish_reason, shown, same])
    print(tabulate(rows, headers=["id", "prompt len", "cached", "finish", "generated token ids / error",
                                  "same as transformers"]))
    total = sum(len(o.token_ids) for o in outputs)
    print(f"\n{total} tokens in {elapsed:.2f} s = {total / elapsed:.1f} tok/s (continuous batching, up to {args.max_num_seqs} at once)")
    print(f"KV pool: {args.num_kv_blocks} blocks x {args.block_size} tokens; "
          f"preemptions: {engine.scheduler.num_preemptions}; device: {args.device}; "
          f"CUDA graphs for decode batch sizes: {sorted(engine.model_runner.graphs) or 'none (eager)'}")
    sampled = engine.generate(prompts[:2], SamplingParams(max_tokens=8, temperature=0.8, top_k=20, top_p=0.9))
    print("sampled (temperature 0.8, top-k 20, top-p 0.9):", [o.token_ids for o in sampled])
    if args.bench_requests:
        import bench
        print("\nthroughput, same model and requests (bench.py; all requests at once; vLLM: bench.py --preset cpu-28m):")
        bench.main(["--num-requests", str(args.bench_requests), "--max-input", "48", "--max-output", "48",
                    "--device", args.device, "--repeat", "1", "--no-vllm", *(["--model", str(folder)] if args.model else [])])
    return 0 if all_same else 1


def _cuda() -> bool:
    import importlib.util
    if importlib.util.find_spec("torch") is None:
        return False
    import torch
    return torch.cuda.is_available()


if __name__ == "__main__":
    sys.exit(main())
