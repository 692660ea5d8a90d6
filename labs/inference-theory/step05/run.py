"""Prefill vs decode costs, a KV cache whose bytes equal the formula, GQA/MQA against MHA, MLA, and paged KV memory."""
from __future__ import annotations

import argparse

import torch
from tabulate import tabulate
from torch.utils.flop_counter import FlopCounterMode

from costs import Shape, forward_bytes, forward_flops, intensity, kv_bytes, weight_bytes
from decoder import Decoder
from paging import BlockAllocator, make_trace, paged_decode_attention, waste
from mla import MLA, LatentCache, MLAShape, mla_bytes_per_token

# Qwen3-0.6B's config.json as numbers (huggingface.co/Qwen/Qwen3-0.6B).
QWEN3_0_6B = Shape(n_layers=28, d_model=1024, n_heads=16, n_kv_heads=8, head_dim=128, d_ff=3072, vocab=151936)
# DeepSeek-V3's attention (config.json, huggingface.co/deepseek-ai/DeepSeek-V3): 61 layers.
DEEPSEEK_V3 = MLAShape(d_model=7168, n_heads=128, kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64,
                       v_head_dim=128)
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


def gqa_rows(layers: int, max_len: int) -> list[list]:
    """H = 4 query heads with 4, 2 and 1 kv heads: cache bytes, and outputs beside the same model as MHA."""
    from transformers import Qwen3Config, Qwen3ForCausalLM
    ids = torch.randint(3, 512, (1, max_len), generator=torch.Generator().manual_seed(3))
    rows = []
    for kv_heads in (4, 2, 1):
        torch.manual_seed(0)
        hf = Qwen3ForCausalLM(Qwen3Config(vocab_size=512, hidden_size=64, intermediate_size=128,
                                          num_hidden_layers=layers, num_attention_heads=4,
                                          num_key_value_heads=kv_heads, head_dim=32)).eval()
        out = []
        for model in (Decoder.from_hf(hf), Decoder.from_hf(hf).to_mha()):
            cache = model.new_cache(1, max_len)
            with torch.no_grad():
                out.append((model(ids, cache), cache.nbytes()))
        (gqa, gqa_bytes), (mha, mha_bytes) = out
        rows.append([kv_heads, gqa_bytes, mha_bytes, mha_bytes / gqa_bytes, (gqa - mha).abs().max().item()])
    return rows


def mla_rows(max_len: int) -> list[list]:
    """A tiny MLA layer: the absorbed and unabsorbed forms on the same inputs, prefill then decode."""
    s = MLAShape(d_model=64, n_heads=4, kv_lora_rank=32, qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16)
    torch.manual_seed(0)
    m = MLA(s).eval()
    x = torch.randn(1, max_len, s.d_model, generator=torch.Generator().manual_seed(4))
    outs = {}
    for form in ("unabsorbed", "absorbed"):
        f, cache, half = getattr(m, f"forward_{form}"), LatentCache(s, 1, max_len), max_len // 2
        with torch.no_grad():
            outs[form] = torch.cat([f(x[:, :half], torch.arange(half), cache)] +
                                   [f(x[:, p:p + 1], torch.arange(p, p + 1), cache) for p in range(half, max_len)], 1)
    diff = (outs["absorbed"] - outs["unabsorbed"]).abs().max().item()
    return [[max_len, cache.nbytes(), (s.kv_lora_rank + s.qk_rope_head_dim) * max_len * 4,
             outs["absorbed"].abs().max().item(), diff]]


def cache_per_token_rows(s: MLAShape = DEEPSEEK_V3, layers: int = 61, elt: int = 2) -> list[list]:
    """Bytes per token for DeepSeek-V3's attention cached three ways (bf16)."""
    mha = layers * s.n_heads * (s.qk_nope_head_dim + s.qk_rope_head_dim + s.v_head_dim) * elt
    gqa8 = 2 * layers * 8 * 128 * elt
    mla = mla_bytes_per_token(s, layers, elt)
    return [["MHA (k 192, v 128 per head)", mha, mha / mla], ["GQA, 8 kv heads of 128", gqa8, gqa8 / mla],
            ["MLA (latent 512 + rope key 64)", mla, 1.0]]


def paging_rows(requests: int, max_len: int, block_sizes: list[int]) -> list[list]:
    """Positions reserved for a seeded trace of request lengths: contiguous (max_len each) against paged."""
    lengths = make_trace(requests, seed=0, max_len=max_len)
    rows = []
    for b in block_sizes:
        w = waste(lengths, max_len, b)
        if not rows:
            rows.append(["contiguous", w["contiguous_reserved"], w["used"], w["used"] / w["contiguous_reserved"],
                         max_len - min(lengths)])
        rows.append([f"paged b={b}", w["paged_reserved"], w["used"], w["used"] / w["paged_reserved"],
                     max(w["per_request_paged_waste"])])
    return rows


def paged_attention_diff(block_size: int = 4) -> float:
    """Three requests grown together (so their blocks interleave): paged against contiguous attention."""
    lengths, h, h_kv, d = [5, 11, 8], 4, 2, 16
    pool = BlockAllocator(16, block_size)
    g = torch.Generator().manual_seed(5)
    k = [torch.randn(h_kv, n, d, generator=g) for n in lengths]
    v = [torch.randn(h_kv, n, d, generator=g) for n in lengths]
    k_pool, v_pool = torch.zeros(16, h_kv, block_size, d), torch.zeros(16, h_kv, block_size, d)
    for pos in range(max(lengths)):
        for seq, n in enumerate(lengths):
            if pos < n:
                pool.append(seq)
                slot = pool.slot(seq, pos)
                k_pool[slot // block_size, :, slot % block_size] = k[seq][:, pos]
                v_pool[slot // block_size, :, slot % block_size] = v[seq][:, pos]
    q = torch.randn(3, h, 1, d, generator=g)
    paged = paged_decode_attention(q, k_pool, v_pool, [pool.tables[s] for s in range(3)], lengths)
    contiguous = torch.cat([torch.nn.functional.scaled_dot_product_attention(q[i:i + 1], k[i][None], v[i][None],
                                                                             enable_gqa=True) for i in range(3)])
    return (paged - contiguous).abs().max().item()


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
    ap.add_argument("--requests", type=int, choices=range(1, 2001), default=200, metavar="1..2000",
                    help="requests in the paging trace")
    ap.add_argument("--trace-max-len", type=int, choices=range(1024, 32769), default=2048, metavar="1024..32768",
                    help="the contiguous layout's reservation per request")
    args = ap.parse_args(argv)

    print(f"\n[1] tiny Qwen3 (fp32, {args.layers} layers): FlopCounterMode and tensor.nbytes against the formulas")
    print(tabulate(tiny_rows(args.prompt, args.batch, args.layers),
                   headers=["phase", "batch", "new", "context", "FLOPs counted", "FLOPs formula",
                            "param bytes", "weight bytes formula", "cache bytes", "KV bytes formula"]))
    print(f"\n[2] our decoder's preallocated KV cache: nbytes against 2*L*H_kv*d*max_len*batch*bytes; "
          "prefill half, decode the rest one token at a time, max |logits - transformers|")
    print(tabulate(cache_rows(args.layers, args.max_len),
                   headers=["batch", "max_len", "dtype", "cache nbytes", "formula", "max |diff| vs HF"]))
    print("\n[3] 4 query heads sharing 4 (MHA), 2 (GQA) or 1 (MQA) kv heads: cache bytes, and max |logits| "
          "difference from the same model with its kv heads repeated (MHA)")
    print(tabulate(gqa_rows(args.layers, args.max_len),
                   headers=["kv heads", "cache bytes", "as MHA", "ratio", "max |diff| vs MHA"]))
    ridge = H100_FLOPS / H100_BW
    print(f"\n[4] Qwen3-0.6B shape, bf16, per token (formulas); H100 ridge point {ridge:.0f} FLOP/byte (datasheet)")
    print(tabulate(model_rows(QWEN3_0_6B, args.context, [1, 8, 64, 256]),
                   headers=["phase", "batch", "context", "GFLOP/token", "MB/token", "FLOP/byte", "bound (H100)"],
                   floatfmt=".3g"))
    print("\n[5] MLA layer (r 32, d_rope 8, 4 heads): absorbed against unabsorbed, prefill half then decode")
    print(tabulate(mla_rows(args.max_len), headers=["positions", "latent cache bytes", "(r + d_rope)*T*4",
                                                    "max |out|", "max |absorbed - unabsorbed|"]))
    print("\n[6] DeepSeek-V3 attention (61 layers, 128 heads), KV bytes per token, bf16")
    print(tabulate(cache_per_token_rows(), headers=["cached as", "bytes/token", "x MLA"], floatfmt=".3g"))
    print(f"\n[7] KV positions for {args.requests} requests (seeded trace, max_len {args.trace_max_len}) at their "
          "final lengths")
    print(tabulate(paging_rows(args.requests, args.trace_max_len, [8, 16, 32, 128]),
                   headers=["layout", "reserved", "used", "used/reserved", "max waste per request"],
                   floatfmt=".3f"))
    print(f"paged attention against contiguous attention, max |diff|: {paged_attention_diff():.3g}")


if __name__ == "__main__":
    main()
