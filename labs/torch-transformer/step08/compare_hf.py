"""Build tiny seeded Llama and Qwen3 models with transformers, load their weights into ours, compare the outputs."""
from __future__ import annotations

import argparse
import resource
import time

import torch
from tabulate import tabulate

from hf import config_from_hf, from_hf, our_name
from model import LanguageModel

# Tiny but complete: GQA (4 query heads, 2 kv heads), 2 layers, non-default eps and RoPE base.
# initializer_range=0.1 (default 0.02) makes the random model's greedy tokens varied;
# with tiny weights every logit is ~0 and greedy repeats one token, which proves nothing.
TINY = {
    "llama": ("LlamaConfig", "LlamaForCausalLM", dict(rope_theta=500000.0, rms_norm_eps=1e-5)),
    "qwen3": ("Qwen3Config", "Qwen3ForCausalLM", dict(rope_theta=1000000.0, rms_norm_eps=1e-6, head_dim=32)),
}

# Qwen/Qwen3-0.6B's config.json, the fields our model reads (https://huggingface.co/Qwen/Qwen3-0.6B).
QWEN3_0_6B = dict(vocab_size=151936, hidden_size=1024, intermediate_size=3072, num_hidden_layers=28,
                  num_attention_heads=16, num_key_value_heads=8, head_dim=128, max_position_embeddings=40960,
                  tie_word_embeddings=True, rope_theta=1000000.0, rms_norm_eps=1e-6)
GiB = 2**30


def tiny_hf_model(kind: str, seed: int = 0, **overrides):
    """A seeded transformers model of the given kind; norm scales are randomized too so they matter."""
    import transformers   # imported here: it takes seconds, and a bad command line should fail at once

    config_name, model_name, extra = TINY[kind]
    config_cls, model_cls = getattr(transformers, config_name), getattr(transformers, model_name)
    config = config_cls(vocab_size=256, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                        initializer_range=0.1, bos_token_id=None, eos_token_id=None, pad_token_id=None,
                        **{**extra, **overrides})
    torch.manual_seed(seed)
    model = model_cls(config).eval()
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 1:                     # RMSNorm scales start at 1: make them differ from 1
                p.normal_(1.0, 0.2)
    return model


@torch.no_grad()
def compare(kind: str, seed: int, new_tokens: int) -> list:
    hf_model = tiny_hf_model(kind, seed)
    ours = from_hf(hf_model.config, hf_model.state_dict())
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randint(hf_model.config.vocab_size, (2, 24), generator=gen)
    expected = hf_model(idx).logits
    err = (expected - ours(idx)[0]).abs().max().item()
    prompt = idx[:, :6]
    hf_tokens = hf_model.generate(prompt, max_new_tokens=new_tokens, do_sample=False)
    our_tokens = ours.generate(prompt, new_tokens, temperature=0)
    n_params = sum(p.numel() for p in ours.parameters())
    return [kind, f"{n_params:,}", ours.cfg.head_dim, ours.cfg.qk_norm, f"{err:.2e}", f"{expected.abs().max():.2f}",
            torch.equal(hf_tokens, our_tokens), len(set(hf_tokens[:, 6:].flatten().tolist())),
            " ".join(map(str, our_tokens[0, 6:16].tolist()))]


def peak_rss() -> int:
    """The most resident memory this process has used so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@torch.no_grad()
def qwen3_shape_run(max_model_len: int | None, prompt_len: int = 120, new_tokens: int = 8) -> dict:
    """Build a Qwen3-0.6B-shaped model (random weights, nothing downloaded), push 128 tokens through it."""
    import transformers

    before = peak_rss()
    config = transformers.Qwen3Config(**QWEN3_0_6B)
    with torch.device("meta"):                   # names and shapes only: no memory, no weights
        names = transformers.Qwen3ForCausalLM(config).state_dict()
    torch.manual_seed(0)
    t0 = time.perf_counter()
    model = LanguageModel(config_from_hf(config, names, max_model_len)).eval()
    model.lm_head.weight = model.token_embedding.weight      # tied, as in the checkpoint
    build_s = time.perf_counter() - t0
    prompt = torch.randint(config.vocab_size, (1, prompt_len), generator=torch.Generator().manual_seed(0))
    t0 = time.perf_counter()
    out = model.generate(prompt, new_tokens, temperature=0)   # prefill 120 tokens, then 8 decode steps
    run_s = time.perf_counter() - t0
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    buffers = sum(b.numel() * b.element_size() for b in model.buffers())
    attn = model.layers[0].attention
    cache = 2 * model.cfg.n_layer * attn.n_kv_head * attn.head_dim * (prompt_len + new_tokens) * 4
    return {"params": sum(p.numel() for p in model.parameters()), "weights_gib": weights / GiB,
            "buffers_gib": buffers / GiB, "kv_cache_gib": cache / GiB, "block_size": model.cfg.block_size,
            "tokens": prompt_len + new_tokens, "generated": out[0, prompt_len:].tolist(),
            "old_masks_gib": model.cfg.n_layer * model.cfg.block_size ** 2 / GiB,
            "build_s": build_s, "run_s": run_s,
            "rss_before_gib": before / GiB, "peak_rss_gib": peak_rss() / GiB}


def print_shape_run(r: dict) -> None:
    rows = [["parameters (tied embedding)", f"{r['params']:,}"],
            ["weights, fp32", f"{r['weights_gib']:.2f} GiB"],
            [f"buffers (RoPE tables, block_size = max_model_len = {r['block_size']:,})", f"{r['buffers_gib']:.3f} GiB"],
            [f"KV cache for the request ({r['tokens']} positions)", f"{r['kv_cache_gib']:.4f} GiB"],
            ["causal masks kept (one block_size^2 bool per layer would be)",
             f"0 ({r['old_masks_gib']:.1f} GiB)"],
            ["build, random init", f"{r['build_s']:.1f} s"],
            [f"prefill {r['tokens'] - len(r['generated'])} tokens + {len(r['generated'])} decode steps",
             f"{r['run_s']:.1f} s"],
            ["peak RSS before building (python, torch, transformers)", f"{r['rss_before_gib']:.2f} GiB"],
            ["peak RSS of the process", f"{r['peak_rss_gib']:.2f} GiB"]]
    print("Qwen3-0.6B shape, random weights (nothing downloaded)")
    print(tabulate(rows, headers=["", "value"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", choices=["llama", "qwen3", "both"], default="both")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--new-tokens", type=int, choices=range(1, 59), default=40, metavar="1..58",
                    help="greedy tokens to generate after a 6-token prompt (the tiny models hold 64 positions)")
    ap.add_argument("--qwen3-0.6b-shape", dest="qwen3_shape", action="store_true",
                    help="instead: build a Qwen3-0.6B-shaped model (random weights), run 128 tokens, print memory")
    ap.add_argument("--max-model-len", type=int, default=None, metavar="N",
                    help="with --qwen3-0.6b-shape: longest sequence to serve (default: max_position_embeddings)")
    ap.add_argument("--json", action="store_true",
                    help="also write results/compare-hf.json (or qwen3-0.6b-shape*.json) with hardware and versions")
    args = ap.parse_args()
    if args.max_model_len is not None and not 128 <= args.max_model_len <= QWEN3_0_6B["max_position_embeddings"]:
        ap.error(f"--max-model-len must be between 128 (the run's tokens) and {QWEN3_0_6B['max_position_embeddings']}")
    if args.qwen3_shape:
        r = qwen3_shape_run(args.max_model_len)
        print_shape_run(r)
        if args.json:
            from dlc_shared.bench import write_result
            name = "qwen3-0.6b-shape" + (f"-len{args.max_model_len}" if args.max_model_len else "")
            print(f"wrote {write_result(name, r, packages=('torch', 'transformers'))}")
        return
    kinds = ["llama", "qwen3"] if args.model == "both" else [args.model]

    names = tiny_hf_model("qwen3").state_dict()
    rows = [[n, tuple(t.shape), our_name(n)] for n, t in names.items() if not n.startswith("model.layers.1.")]
    print("Hugging Face Qwen3 name -> our name (layer 0 shown; Llama has the same names without q_norm/k_norm)")
    print(tabulate(rows, headers=["transformers", "shape", "ours"]))
    print()
    rows = [compare(kind, args.seed, args.new_tokens) for kind in kinds]
    headers = ["model", "params", "head_dim", "qk_norm", "max |logits diff| (fp32)", "max |logits|",
               f"greedy {args.new_tokens} tokens identical", "distinct tokens", "first generated tokens"]
    print(tabulate(rows, headers=headers))
    if args.json:
        from dlc_shared.bench import write_result
        table = [dict(zip(headers, map(str, row))) for row in rows]
        print(f"wrote {write_result('compare-hf', {'rows': table}, packages=('torch', 'transformers'))}")


if __name__ == "__main__":
    main()
