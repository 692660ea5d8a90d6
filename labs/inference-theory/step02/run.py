"""Prefill vs decode costs, and a preallocated KV cache whose bytes equal the formula."""
from __future__ import annotations

import argparse

import torch
from tabulate import tabulate
from torch.utils.flop_counter import FlopCounterMode

from costs import Shape, forward_bytes, forward_flops, intensity, kv_bytes, weight_bytes
from decoder import Decoder

# Qwen3-0.6B's config.json as numbers (huggingface.co/Qwen/Qwen3-0.6B).
QWEN3_0_6B = Shape(n_layers=28, d_model=1024, n_heads=16, n_kv_heads=8, head_dim=128, d_ff=3072, vocab=151936)
# H100 SXM datasheet: 989 TFLOP/s dense bf16, 3.35 TB/s HBM3.
H100_FLOPS, H100_BW = 989e12, 3.35e12


def tiny_model(layers: int, seed: int = 0):
    """A Qwen3-shaped model built from a config with seeded weights; eager attention so every product is a matmul."""
    from transformers import Qwen3Config, Qwen3ForCausalLM
    cfg = Qwen3Config(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=layers,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=32, tie_word_embeddings=True,
                      attn_implementation="eager")
    torch.manual_seed(seed)
    return Qwen3ForCausalLM(cfg).eval()


@torch.no_grad()
def counted_pass(model, ids, cache) -> int:
    """FLOPs that torch's FlopCounterMode counts for one forward pass that extends `cache`."""
    with FlopCounterMode(display=False) as counter:
        model(ids, cache=cache, use_cache=True)
    return counter.get_total_flops()


def cache_nbytes(cache) -> int:
    return sum(layer.keys.nbytes + layer.values.nbytes for layer in cache.layers)


def tiny_rows(prompt: int, batch: int, layers: int) -> list[list]:
    from transformers import DynamicCache
    model = tiny_model(layers)
    s = Shape.from_hf(model.config)
    params = sum(p.nbytes for p in model.parameters())  # tied: the embedding matrix is the lm_head's
    ids = torch.randint(3, 512, (batch, prompt + 1), generator=torch.Generator().manual_seed(1))
    cache = DynamicCache(config=model.config)
    rows = []
    for phase, new in (("prefill", prompt), ("decode", 1)):
        context = cache.get_seq_length() + new
        flops = counted_pass(model, ids[:, context - new:context], cache)
        rows.append([phase, batch, new, context, flops, forward_flops(s, new, context, batch),
                     params, weight_bytes(s, 4), cache_nbytes(cache), kv_bytes(s, context, 4, batch)])
    return rows


def model_rows(s: Shape, prompt: int, batches: list[int], elt: int = 2) -> list[list]:
    cases = [("prefill", 1, prompt, prompt)] + [("decode", b, 1, prompt) for b in batches]
    rows = []
    for phase, b, new, ctx in cases:
        tokens = b * new
        i = intensity(s, new, ctx, elt, b)
        rows.append([phase, b, ctx, forward_flops(s, new, ctx, b) / tokens / 1e9,
                     forward_bytes(s, new, ctx, elt, b) / tokens / 1e6, i,
                     "compute" if i > H100_FLOPS / H100_BW else "memory"])
    return rows


def cache_rows(layers: int, max_len: int) -> list[list]:
    """Our decoder's preallocated cache: measured nbytes beside the formula, and its decode against transformers."""
    hf = tiny_model(layers)
    rows = []
    for batch, dtype, elt in ((1, torch.float32, 4), (4, torch.float32, 4), (4, torch.bfloat16, 2)):
        model = Decoder.from_hf(hf.to(dtype))
        ids = torch.randint(3, 512, (batch, max_len), generator=torch.Generator().manual_seed(2))
        cache = model.new_cache(batch, max_len)
        with torch.no_grad():
            half = max_len // 2
            logits = torch.cat([model(ids[:, :half], cache)] + [model(ids[:, p:p + 1], cache)
                                                                for p in range(half, max_len)], 1)
            diff = (logits.float() - hf(ids).logits.float()).abs().max().item()
        rows.append([batch, max_len, str(dtype).removeprefix("torch."), cache.nbytes(),
                     kv_bytes(model.shape, max_len, elt, batch), diff])
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--prompt", type=int, choices=range(1, 129), default=16, metavar="1..128",
                    help="prompt length of the counted run on the tiny model")
    ap.add_argument("--batch", type=int, choices=range(1, 9), default=2, metavar="1..8")
    ap.add_argument("--layers", type=int, choices=range(1, 5), default=2, metavar="1..4")
    ap.add_argument("--context", type=int, choices=range(1, 32769), default=2048, metavar="1..32768",
                    help="prompt length of the Qwen3-0.6B-shaped example")
    ap.add_argument("--max-len", type=int, choices=range(2, 257), default=32, metavar="2..256",
                    help="positions the tiny decoder's cache holds")
    args = ap.parse_args(argv)

    print(f"\n[1] tiny Qwen3 (fp32, {args.layers} layers): FlopCounterMode and tensor.nbytes against the formulas")
    print(tabulate(tiny_rows(args.prompt, args.batch, args.layers),
                   headers=["phase", "batch", "new", "context", "FLOPs counted", "FLOPs formula",
                            "param bytes", "weight bytes formula", "cache bytes", "KV bytes formula"]))
    print(f"\n[2] our decoder's preallocated KV cache: nbytes against 2*L*H_kv*d*max_len*batch*bytes; "
          "prefill half, decode the rest one token at a time, max |logits - transformers|")
    print(tabulate(cache_rows(args.layers, args.max_len),
                   headers=["batch", "max_len", "dtype", "cache nbytes", "formula", "max |diff| vs HF"]))
    ridge = H100_FLOPS / H100_BW
    print(f"\n[3] Qwen3-0.6B shape, bf16, per token (formulas); H100 ridge point {ridge:.0f} FLOP/byte (datasheet)")
    print(tabulate(model_rows(QWEN3_0_6B, args.context, [1, 8, 64, 256]),
                   headers=["phase", "batch", "context", "GFLOP/token", "MB/token", "FLOP/byte", "bound (H100)"],
                   floatfmt=".3g"))


if __name__ == "__main__":
    main()
