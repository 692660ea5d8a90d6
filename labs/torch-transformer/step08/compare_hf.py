"""Build tiny seeded Llama and Qwen3 models with transformers, load their weights into ours, compare the outputs."""
from __future__ import annotations

import argparse

import torch
from tabulate import tabulate

from hf import from_hf, our_name

# Tiny but complete: GQA (4 query heads, 2 kv heads), 2 layers, non-default eps and RoPE base.
# initializer_range=0.1 (default 0.02) makes the random model's greedy tokens varied;
# with tiny weights every logit is ~0 and greedy repeats one token, which proves nothing.
TINY = {
    "llama": ("LlamaConfig", "LlamaForCausalLM", dict(rope_theta=500000.0, rms_norm_eps=1e-5)),
    "qwen3": ("Qwen3Config", "Qwen3ForCausalLM", dict(rope_theta=1000000.0, rms_norm_eps=1e-6, head_dim=32)),
}


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
    err = (hf_model(idx).logits - ours(idx)[0]).abs().max().item()
    prompt = idx[:, :6]
    hf_tokens = hf_model.generate(prompt, max_new_tokens=new_tokens, do_sample=False)
    our_tokens = ours.generate(prompt, new_tokens, temperature=0)
    n_params = sum(p.numel() for p in ours.parameters())
    return [kind, f"{n_params:,}", ours.cfg.head_dim, ours.cfg.qk_norm, f"{err:.2e}",
            torch.equal(hf_tokens, our_tokens), len(set(hf_tokens[:, 6:].flatten().tolist())),
            " ".join(map(str, our_tokens[0, 6:16].tolist()))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", choices=["llama", "qwen3", "both"], default="both")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--new-tokens", type=int, choices=range(1, 59), default=40, metavar="1..58",
                    help="greedy tokens to generate after a 6-token prompt (the tiny models hold 64 positions)")
    args = ap.parse_args()
    kinds = ["llama", "qwen3"] if args.model == "both" else [args.model]

    names = tiny_hf_model("qwen3").state_dict()
    rows = [[n, tuple(t.shape), our_name(n)] for n, t in names.items() if not n.startswith("model.layers.1.")]
    print("Hugging Face Qwen3 name -> our name (layer 0 shown; Llama has the same names without q_norm/k_norm)")
    print(tabulate(rows, headers=["transformers", "shape", "ours"]))
    print()
    rows = [compare(kind, args.seed, args.new_tokens) for kind in kinds]
    print(tabulate(rows, headers=["model", "params", "head_dim", "qk_norm", "max |logits diff| (fp32)",
                                  f"greedy {args.new_tokens} tokens identical", "distinct tokens",
                                  "first generated tokens"]))


if __name__ == "__main__":
    main()
