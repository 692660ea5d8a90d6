"""Decode throughput at long context: our Mamba against a Transformer with the same number of parameters.

Both models are ours, float32, on the CPU: Mamba (d_model 256, 4 layers, d_state 16)
and a Transformer (d_model 256, 4 layers, 4 heads, SwiGLU d_ff 228) within 0.1% of its
parameter count. For each context length a batch of requests is prefilled (not timed),
then `--steps` decode steps are timed: output tokens per second, and the bytes each
request holds. The Transformer's step reads a KV cache that grows with the context;
Mamba's reads the same fixed-size state at every length.
"""
from __future__ import annotations

import argparse
import copy
import sys

import torch

from model import MambaConfig, MambaLM, MambaState, state_bytes
from transformer import KVCache, TransformerConfig, TransformerLM, kv_bytes

MAMBA = MambaConfig(vocab_size=512, d_model=256, n_layers=4, d_state=16, tie_embeddings=False)
TRANSFORMER = TransformerConfig(vocab_size=512, d_model=256, n_layers=4, n_heads=4, n_kv_heads=4, d_ff=228)


def params(model) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def decode_seconds(model, kind: str, context: int, batch: int, steps: int, repeat: int) -> tuple[list[float], int]:
    """Seconds for `steps` decode steps after a prefill of `context` tokens, `repeat` times; bytes per request."""
    from dlc_shared.bench import time_fn
    g = torch.Generator().manual_seed(context)
    prompt = torch.randint(0, 512, (batch, context), generator=g)
    token = torch.randint(0, 512, (batch, 1), generator=g)

    def fresh():
        if kind == "mamba":
            state = MambaState(model.cfg, batch)
            model(prompt, parallel=False, state=state)  # the loop: the parallel scan would hold every h_t
        else:
            state = KVCache(model.cfg, batch, context + steps)
            model(prompt, state)
        return state

    first = fresh()  # prefilled once, copied ahead, so only the decode steps are timed
    states = [copy.deepcopy(first) for _ in range(repeat + 1)]

    def run():
        state = states.pop()
        for _ in range(steps):
            model(token, state=state) if kind == "mamba" else model(token, state)
        run.held = state.nbytes() // batch

    samples = time_fn(run, warmup=1, repeat=repeat)
    return samples, run.held


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contexts", type=int, nargs="+", default=[256, 1024, 4096])
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=32, help="decode steps timed per sample")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (the target machine has 2 cores)")
    ap.add_argument("--json", action="store_true", help="also write results/bench.json")
    args = ap.parse_args(argv)
    if min(args.contexts + [args.batch, args.steps, args.repeat, args.threads]) < 1 or max(args.contexts) > 16384:
        ap.error("contexts must be in 1..16384; batch, steps, repeat and threads at least 1")
    from tabulate import tabulate

    from dlc_shared.bench import median, write_result
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    mamba, transformer = MambaLM(MAMBA).eval(), TransformerLM(TRANSFORMER).eval()
    rows = []
    for context in args.contexts:
        row = {"context": context}
        for kind, model in (("mamba", mamba), ("transformer", transformer)):
            samples, held = decode_seconds(model, kind, context, args.batch, args.steps, args.repeat)
            row[kind] = {"seconds": samples, "median_s": median(samples),
                         "tok_per_s": args.batch * args.steps / median(samples), "bytes_per_request": held}
        row["mamba_vs_transformer"] = round(row["mamba"]["tok_per_s"] / row["transformer"]["tok_per_s"], 2)
        rows.append(row)
    print(f"decode, batch {args.batch}, {args.steps} steps per sample, median of {args.repeat}, "
          f"{torch.get_num_threads()} threads; parameters: Mamba {params(mamba):,}, Transformer {params(transformer):,}")
    print(tabulate([[r["context"], f"{r['mamba']['tok_per_s']:.0f}", f"{r['transformer']['tok_per_s']:.0f}",
                     f"{r['mamba_vs_transformer']:.2f}x", r["mamba"]["bytes_per_request"],
                     r["transformer"]["bytes_per_request"]] for r in rows],
                   headers=["context", "Mamba tok/s", "Transformer tok/s", "Mamba / Transformer",
                            "Mamba bytes/request", "Transformer KV bytes/request"]))
    if args.json:
        path = write_result("bench", {"settings": vars(args), "torch_threads": torch.get_num_threads(),
                                      "params": {"mamba": params(mamba), "transformer": params(transformer)},
                                      "state_bytes_formula": state_bytes(MAMBA),
                                      "results": rows}, packages=("torch",))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
