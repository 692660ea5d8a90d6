"""Drive the engine core step by step: what each SchedulerOutput schedules and what comes back."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", help="a Hugging Face Qwen3 folder (default: a tiny seeded one, built once)")
    parser.add_argument("--num-prompts", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=4)
    parser.add_argument("--block-size", type=int, default=4, help="token slots per KV block")
    args = parser.parse_args(argv)
    if min(args.num_prompts, args.max_tokens, args.block_size) < 1:
        parser.error("--num-prompts, --max-tokens and --block-size must be at least 1")

    import torch
    from tabulate import tabulate
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging
    logging.disable_progress_bar()

    from llm import LLM, SamplingParams
    from tiny_model import default_model_dir, make_tiny_qwen3, random_prompts

    folder = args.model or make_tiny_qwen3(default_model_dir())
    try:
        llm = LLM(folder, block_size=args.block_size)
    except (OSError, KeyError, ValueError, RuntimeError) as e:
        sys.exit(f"error: cannot load a Qwen3 model from '{folder}': {e}")
    core = llm.client.core
    shared = random_prompts(1, 8, 8, core.engine.config.vocab_size, seed=2)[0]  # a prefix every prompt shares
    prompts = [shared + tail for tail in random_prompts(args.num_prompts, 1, 6, core.engine.config.vocab_size, seed=1)]
    ids = [llm.add_request(p, SamplingParams(max_tokens=args.max_tokens)) for p in prompts[:1]]
    rows, step, final = [], 0, {}
    while llm.has_unfinished_requests():
        if step == 1:  # the others arrive while the first one is decoding: continuous batching
            ids += [llm.add_request(p, SamplingParams(max_tokens=args.max_tokens)) for p in prompts[1:]]
        outs = llm.step()
        so = core.last_scheduler_output
        new = ", ".join(f"{r.req_id}: {so.num_scheduled_tokens[r.req_id]} new tok (cached {r.num_computed_tokens}), "
                        f"blocks {r.block_ids}" for r in so.scheduled_new_reqs)
        cached = ", ".join(f"{r.req_id}: +{r.new_block_ids}" if r.new_block_ids else r.req_id
                           for r in so.scheduled_cached_reqs)
        got = " ".join(f"{o.request_id}+{o.new_token_ids}{'.' + o.finish_reason if o.finished else ''}" for o in outs)
        rows.append([step, new or "-", cached or "-", so.total_num_scheduled_tokens, got])
        final.update({o.request_id: o for o in outs if o.finished})
        step += 1
    print(tabulate(rows, headers=["step", "scheduled_new_reqs", "scheduled_cached_reqs", "tokens", "EngineCoreOutputs"]))

    reference = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    same = []
    for rid, prompt in zip(ids, prompts):
        t = torch.tensor([prompt])
        ref = reference.generate(t, attention_mask=torch.ones_like(t), max_new_tokens=args.max_tokens, do_sample=False,
                                 eos_token_id=core.engine.eos_token_id, pad_token_id=0)[0, len(prompt):].tolist()
        same.append(final[rid].token_ids == ref)
    print(f"\ngreedy tokens same as transformers: {sum(same)}/{len(same)}; free KV blocks after: "
          f"{core.stats()['num_free_blocks']}/{core.stats()['num_blocks']}")
    return 0 if all(same) else 1


if __name__ == "__main__":
    sys.exit(main())
