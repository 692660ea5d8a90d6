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
    parser.add_argument("--num-kv-blocks", type=int, default=8, help="blocks in the KV pool (small: forces preemption)")
    parser.add_argument("--block-size", type=int, default=4, help="token slots per block")
    args = parser.parse_args(argv)
    if min(args.num_prompts, args.max_tokens, args.max_num_seqs, args.num_kv_blocks, args.block_size) < 1:
        parser.error("--num-prompts, --max-tokens, --max-num-seqs, --num-kv-blocks and --block-size must be at least 1")

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
                           block_size=args.block_size)
    except (OSError, KeyError, ValueError) as e:
        sys.exit(f"error: cannot load a Qwen3 model from '{folder}': {e}")
    reference = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    config = engine.config
    prompts = random_prompts(args.num_prompts, 3, 12, config.vocab_size, seed=1)
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
        rows.append([out.request_id, len(prompt), out.finish_reason, shown, same])
    print(tabulate(rows, headers=["id", "prompt len", "finish", "generated token ids / error", "same as transformers"]))
    total = sum(len(o.token_ids) for o in outputs)
    print(f"\n{total} tokens in {elapsed:.2f} s = {total / elapsed:.1f} tok/s (continuous batching, up to {args.max_num_seqs} at once)")
    print(f"KV pool: {args.num_kv_blocks} blocks x {args.block_size} tokens; "
          f"preemptions: {engine.scheduler.num_preemptions}")
    sampled = engine.generate(prompts[:2], SamplingParams(max_tokens=8, temperature=0.8, top_k=20, top_p=0.9))
    print("sampled (temperature 0.8, top-k 20, top-p 0.9):", [o.token_ids for o in sampled])
    return 0 if all_same else 1


if __name__ == "__main__":
    sys.exit(main())
