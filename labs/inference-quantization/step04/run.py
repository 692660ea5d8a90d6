"""Weight-only int8/int4 and W8A8 with and without smoothing: perplexity of the trained model, bytes/token predicted, tokens/s measured."""
from __future__ import annotations

import argparse
import copy

import torch
from tabulate import tabulate

from evaluate import perplexity
from decode import bench_config, decode_seconds, kv_bytes_per_token, read_bandwidth, weight_bytes_per_token
from dlc_shared.bench import median, write_result
from model import Llama
from quant import Int4Linear, Int8Linear, quantize_model
from smooth import W8A8Linear, smooth_model
from train import trained_model

FORMATS = {
    "fp32": lambda m: m,
    "bf16": lambda m: copy.deepcopy(m).to(torch.bfloat16),
    "int8": lambda m: quantize_model(m, Int8Linear).to(torch.bfloat16),  # aten._weight_int8pack_mm, bf16 activations
    "int8-ref": lambda m: quantize_model(m, lambda lin: Int8Linear(lin, kernel=False)).to(torch.bfloat16),  # dequantize, matmul
    "int4": lambda m: quantize_model(m, lambda lin: Int4Linear(lin, GROUP[0])).to(torch.bfloat16),  # _weight_int4pack_mm_for_cpu
    "int4-ref": lambda m: quantize_model(m, lambda lin: Int4Linear(lin, GROUP[0], kernel=False)).to(torch.bfloat16),
}
GROUP = [128]  # int4 group size along K, set by --group
FORMATS["w8a8"] = lambda m: quantize_model(m, W8A8Linear)                    # int8 weights and activations
FORMATS["w8a8-smooth"] = lambda m: quantize_model(smooth_model(m, ALPHA[0]), W8A8Linear)
ALPHA = [0.5]  # migration strength, set by --alpha
QUALITY_ONLY = {"w8a8", "w8a8-smooth"}  # they read the same weight bytes as int8; their gain is in compute


def measure(args) -> tuple[list[dict], float]:
    """One row per format: predicted bytes and tokens/s beside the measured tokens/s, in one run."""
    torch.manual_seed(0)
    base = Llama(bench_config(args.d_model, args.n_layer)).eval()
    bandwidth = read_bandwidth()
    context = args.prompt + args.tokens // 2  # the average number of cached positions while decoding
    rows = []
    for name in [f for f in args.formats if f not in QUALITY_ONLY]:
        model = FORMATS[name](base)
        w = weight_bytes_per_token(model)
        kv = kv_bytes_per_token(model.new_cache(1, 1), context)
        samples = decode_seconds(model, args.tokens, args.prompt, args.repeat)
        rows.append({"format": name, "weight_bytes": w, "kv_bytes": kv, "predicted_tok_s": bandwidth / (w + kv),
                     "tok_s": 1 / median(samples), "seconds_per_token": samples})
    base_row = rows[0]
    for r in rows:
        r["bytes_ratio"] = (base_row["weight_bytes"] + base_row["kv_bytes"]) / (r["weight_bytes"] + r["kv_bytes"])
        r["speedup"] = r["tok_s"] / base_row["tok_s"]
        r["fraction_of_bytes_ratio"] = r["speedup"] / r["bytes_ratio"]
    return rows, bandwidth


def quality(args) -> list[dict]:
    """Held-out perplexity of the trained model in each format (the same windows for all)."""
    model = trained_model(steps=args.train_steps)
    base = perplexity(model, args.windows)
    rows = []
    for name in args.formats:
        ppl = perplexity(FORMATS[name](model), args.windows)
        rows.append({"format": name, "perplexity": ppl, "change": ppl / base - 1})
    return rows


def show_quality(rows, args) -> None:
    print(f"\n[0] held-out perplexity of the trained model ({args.windows} windows of 128 tokens)")
    print(tabulate([[r["format"], r["perplexity"], f"{100 * r['change']:+.3f}%"] for r in rows],
                   headers=["format", "perplexity", "vs " + rows[0]["format"]], floatfmt=".4f"))


def show(rows, bandwidth, args) -> None:
    print(f"\n[1] batch-1 decode, d_model {args.d_model}, {args.n_layer} layers; "
          f"memory read bandwidth measured {bandwidth / 1e9:.1f} GB/s")
    table = [[r["format"], r["weight_bytes"] / 1e6, r["kv_bytes"] / 1e3, r["predicted_tok_s"], r["tok_s"],
              r["tok_s"] / r["predicted_tok_s"], r["bytes_ratio"], r["speedup"], r["fraction_of_bytes_ratio"]]
             for r in rows]
    print(tabulate(table, headers=["format", "weights MB/tok", "KV kB/tok", "predicted tok/s", "measured tok/s",
                                   "measured/predicted", "bytes ratio", "speedup", "speedup/bytes ratio"],
                   floatfmt=".3g"))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--d-model", type=int, choices=[256, 512, 1024, 2048], default=1024,
                    help="width of the decode-sized model (seeded weights: time depends on shapes, not values)")
    ap.add_argument("--n-layer", type=int, choices=range(1, 17), default=2, metavar="1..16")
    ap.add_argument("--tokens", type=int, choices=range(1, 201), default=16, metavar="1..200",
                    help="tokens generated per timed run")
    ap.add_argument("--prompt", type=int, choices=range(1, 33), default=16, metavar="1..32")
    ap.add_argument("--repeat", type=int, choices=range(1, 11), default=2, metavar="1..10",
                    help="timed runs per format (the median is reported)")
    ap.add_argument("--formats", type=lambda s: s.split(","), default=list(FORMATS),
                    help=f"comma-separated, the first is the baseline: {','.join(FORMATS)}")
    ap.add_argument("--windows", type=int, choices=range(1, 257), default=64, metavar="1..256",
                    help="held-out windows of 128 tokens for the perplexity table")
    ap.add_argument("--group", type=int, choices=[32, 64, 128], default=128, help="int4 group size")
    ap.add_argument("--alpha", type=float, default=0.5, help="SmoothQuant migration strength, 0..1")
    ap.add_argument("--train-steps", type=int, choices=range(10, 2001), default=300, metavar="10..2000",
                    help="training steps of the lab's model (trained once per setting, then cached)")
    ap.add_argument("--json", action="store_true", help="also write results/decode.json")
    args = ap.parse_args(argv)
    unknown = [f for f in args.formats if f not in FORMATS]
    if unknown:
        ap.error(f"unknown format(s) {','.join(unknown)}; choose from {','.join(FORMATS)}")
    if not 0 <= args.alpha <= 1:
        ap.error(f"--alpha must be between 0 and 1, got {args.alpha}")
    GROUP[0], ALPHA[0] = args.group, args.alpha
    quality_rows = quality(args)
    show_quality(quality_rows, args)
    rows, bandwidth = measure(args)
    show(rows, bandwidth, args)
    if args.json:
        print("wrote", write_result("decode", {"read_bandwidth_bytes_per_s": bandwidth, "rows": rows, "quality": quality_rows,
                                               "config": vars(args)}))


if __name__ == "__main__":
    main()
