"""Start the engine core in its own process, serve requests over ZMQ, then kill the core and watch the client."""
import argparse
import os
import signal
import sys
import time


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", help="a Hugging Face Qwen3 folder (default: a tiny seeded one, built once)")
    parser.add_argument("--num-prompts", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=8)
    args = parser.parse_args(argv)
    if min(args.num_prompts, args.max_tokens) < 1:
        parser.error("--num-prompts and --max-tokens must be at least 1")

    import torch
    from tabulate import tabulate
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging
    logging.disable_progress_bar()

    from llm import LLM, SamplingParams
    from tiny_model import default_model_dir, make_tiny_qwen3, random_prompts

    folder = args.model or make_tiny_qwen3(default_model_dir())
    if not os.path.isfile(os.path.join(folder, "config.json")):
        sys.exit(f"error: cannot load a Qwen3 model from '{folder}': no config.json there")
    llm = LLM(folder, multiprocess=True)
    print(f"this process: pid {os.getpid()}; engine core: pid {llm.client.proc.pid} at {llm.client.address}")
    prompts = random_prompts(args.num_prompts, 3, 20, 512, seed=1)
    outputs = llm.generate(prompts, SamplingParams(max_tokens=args.max_tokens))
    reference = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    rows, all_same = [], True
    for prompt, out in zip(prompts, outputs):
        t = torch.tensor([prompt])
        ref = reference.generate(t, attention_mask=torch.ones_like(t), max_new_tokens=args.max_tokens,
                                 do_sample=False, eos_token_id=2, pad_token_id=0)[0, len(prompt):].tolist()
        all_same &= out.token_ids == ref
        rows.append([out.request_id, len(prompt), " ".join(map(str, out.token_ids)), out.finish_reason,
                     "yes" if out.token_ids == ref else "NO"])
    print(tabulate(rows, headers=["id", "prompt len", "tokens (over ZMQ)", "finish", "same as transformers"]))

    # Now the core dies in the middle of long requests.
    ids = [llm.add_request(p, SamplingParams(max_tokens=200, ignore_eos=True)) for p in prompts]
    while not llm.step():
        pass
    os.kill(llm.client.proc.pid, signal.SIGKILL)
    start, final = time.monotonic(), {}
    while llm.has_unfinished_requests():
        final.update({o.request_id: o for o in llm.step() if o.finished})
    waited = time.monotonic() - start
    print(f"\nkilled the engine core with {len(ids)} requests running; the client ended them all "
          f"({waited * 1000:.0f} ms later):")
    print(tabulate([[i, len(final[i].token_ids), final[i].finish_reason, final[i].error] for i in ids],
                   headers=["id", "tokens so far", "finish", "error"]))
    llm.shutdown()
    return 0 if all_same and all(final[i].finish_reason == "error" for i in ids) else 1


if __name__ == "__main__":
    sys.exit(main())
