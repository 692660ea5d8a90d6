"""Batch-1 decode: bytes per token predicted by the model, tokens/s measured, fp32 against bf16."""
from __future__ import annotations

import argparse
import copy

import torch
from tabulate import tabulate

from decode import bench_config, decode_seconds, kv_bytes_per_token, read_bandwidth, weight_bytes_per_token
from dlc_shared.bench import median, write_result
from model import Llama

FORMATS = {
    "fp32": lambda m: m,
    "bf16": lambda m: copy.deepcopy(m).to(torch.bfloat16),
}


def measure(args) -> tuple[list[dict], float]:
    """One row per format: predicted bytes and tokens/s beside the measured tokens/s, in one run."""
    torch.manual_seed(0)
    base = Llama(bench_config(args.d_model, args.n_layer)).eval()
    bandwidth = read_bandwidth()
    context = args.prompt + args.tokens // 2  # the average number of cached positions while decoding
    rows = []
    for name in args.formats:
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
    ap.add_argument("--json", action="store_true", help="also write results/decode.json")
    args = ap.parse_args(argv)
    unknown = [f for f in args.formats if f not in FORMATS]
    if unknown:
        ap.error(f"unknown format(s) {','.join(unknown)}; choose from {','.join(FORMATS)}")
    rows, bandwidth = measure(args)
    show(rows, bandwidth, args)
    if args.json:
        print("wrote", write_result("decode", {"read_bandwidth_bytes_per_s": bandwidth, "rows": rows,
                                               "config": vars(args)}))


if __name__ == "__main__":
    main()
