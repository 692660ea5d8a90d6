"""Generate greedily from a tiny Qwen3 with the smallest loop, and check it against transformers."""
import argparse
import sys
import time


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", help="a Hugging Face model folder (default: a tiny seeded Qwen3, built once)")
    parser.add_argument("--num-prompts", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=16)
    args = parser.parse_args(argv)
    if args.num_prompts < 1 or args.max_tokens < 1:
        parser.error("--num-prompts and --max-tokens must be at least 1")

    import torch
    from tabulate import tabulate
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging
    logging.disable_progress_bar()

    from engine import generate
    from model import Qwen3ForCausalLM
    from tiny_model import default_model_dir, make_tiny_qwen3, random_prompts

    folder = args.model or make_tiny_qwen3(default_model_dir())
    try:
        model = Qwen3ForCausalLM.from_pretrained(folder)
    except (OSError, KeyError, ValueError) as e:
        sys.exit(f"error: cannot load a Qwen3 model from '{folder}': {e}")
    reference = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    eos = model.config.eos_token_id
    prompts = random_prompts(args.num_prompts, 3, 12, model.config.vocab_size, seed=1)

    rows, total_tokens, total_time = [], 0, 0.0
    for prompt in prompts:
        t0 = time.perf_counter()
        ours = generate(model, prompt, args.max_tokens, eos)
        total_time += time.perf_counter() - t0
        total_tokens += len(ours)
        ids = torch.tensor([prompt])
        ref = reference.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=args.max_tokens,
                                 do_sample=False, eos_token_id=eos, pad_token_id=eos)[0, len(prompt):].tolist()
        rows.append([len(prompt), " ".join(map(str, ours)), "yes" if ours == ref else "NO"])
    print(tabulate(rows, headers=["prompt len", "generated token ids", "same as transformers"]))
    print(f"\n{total_tokens} tokens in {total_time:.2f} s = {total_tokens / total_time:.1f} tok/s "
          "(one request at a time, whole history recomputed every step)")
    return 0 if all(r[-1] == "yes" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
