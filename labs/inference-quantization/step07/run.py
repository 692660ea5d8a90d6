"""The serving table from one command: perplexity, weight + KV bytes per token and measured tokens/s per format, checked against the targets."""
from __future__ import annotations

import argparse
import copy
import importlib.util

import torch
from tabulate import tabulate

from evaluate import perplexity
from decode import bench_config, decode_seconds, kv_bytes_per_token, read_bandwidth, weight_bytes_per_token
from dlc_shared.bench import median, write_result
from model import Llama
from kvquant import kv_cache_factory
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
CACHES = {"kv-int8": kv_cache_factory("int8"), "kv-fp8": kv_cache_factory("fp8")}  # fp32 weights, quantized cache
FORMATS.update({name: (lambda m: m) for name in CACHES})
QUALITY_ONLY = {"w8a8", "w8a8-smooth", *CACHES}  # w8a8 reads int8's bytes; a short-context KV is tiny


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
        new_cache = CACHES.get(name)
        kv = kv_bytes_per_token(new_cache(model, 1, 1) if new_cache else model.new_cache(1, 1), context)
        samples = decode_seconds(model, args.tokens, args.prompt, args.repeat, new_cache)
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
        fmodel, new_cache = FORMATS[name](model), CACHES.get(name)
        ppl = perplexity(fmodel, args.windows, new_cache=new_cache)
        kv = (new_cache(fmodel, 1, 1) if new_cache else fmodel.new_cache(1, 1)).bytes_per_position()
        rows.append({"format": name, "perplexity": ppl, "change": ppl / base - 1, "kv_bytes_per_position": kv})
    return rows


def show_quality(rows, args) -> None:
    print(f"\n[0] held-out perplexity of the trained model ({args.windows} windows of 128 tokens)")
    print(tabulate([[r["format"], r["perplexity"], f"{100 * r['change']:+.3f}%", r["kv_bytes_per_position"]]
                    for r in rows],
                   headers=["format", "perplexity", "vs " + rows[0]["format"], "KV bytes/position"], floatfmt=".4f"))


def show_gemv(args) -> list[dict]:
    """The Triton kernel (the interpreter on a CPU) on every int4 layer of one block of the trained model."""
    import dequant_gemv  # imports triton
    from quant import dequantize_int4, unpack_int4

    model = quantize_model(trained_model(steps=args.train_steps), lambda lin: Int4Linear(lin, args.gemv_group, False))
    rows = []
    for name, m in model.layers[0].named_modules():
        if isinstance(m, Int4Linear):
            x = torch.randn(m.packed.shape[1] * 2, generator=torch.Generator().manual_seed(len(rows)))
            y = dequant_gemv.int4_gemv(x, m.packed, m.scale_zero, m.group)
            ref = dequantize_int4(unpack_int4(m.packed), m.scale_zero.double(), m.group) @ x.double()
            b = dequant_gemv.gemv_bytes(m.packed.shape[0], x.numel(), m.group)
            rows.append({"layer": name, "N": m.packed.shape[0], "K": x.numel(),
                         "max_abs_diff": float((y.double() - ref).abs().max()), **b})
    print(f"\n[2] dequant-fused int4 GEMV (Triton, group {args.gemv_group}, blocks of 64) vs float64 reference")
    print(tabulate([[r["layer"], r["N"], r["K"], r["max_abs_diff"], r["fused"], r["unfused"], r["unfused"] / r["fused"]]
                    for r in rows], headers=["layer", "N", "K", "max |diff|", "fused bytes", "unfused bytes",
                                             "unfused/fused"], floatfmt=".3g"))
    return rows


SERVING = ["fp32", "bf16", "int8", "int4", "kv-int8"]
TARGETS = [  # (what, format, kind, bound): the quality and speed targets this lab sets itself
    ("int8 weight-only perplexity within 1% of fp32", "int8", "ppl", 0.01),
    ("int4 group-128 perplexity within 5% of fp32", "int4", "ppl", 0.05),
    ("int8 KV cache perplexity within 1% of fp32", "kv-int8", "ppl", 0.01),
    ("int8 weight-only >= 1.5x fp32 tokens/s", "int8", "speed", 1.5),
    ("int4 >= 2x fp32 tokens/s", "int4", "speed", 2.0),
]


def serving(quality_rows, speed_rows) -> tuple[list[dict], list[dict]]:
    """Join the two tables by format, and check each target against them."""
    speed = {r["format"]: r for r in speed_rows}
    keys = ("weight_bytes", "tok_s", "speedup", "bytes_ratio", "fraction_of_bytes_ratio")
    table = [{**q, **({k: speed[q["format"]][k] for k in keys} if q["format"] in speed else {})}
             for q in quality_rows]
    by_format = {r["format"]: r for r in table}
    checks = []
    for what, fmt, kind, bound in TARGETS:
        r = by_format.get(fmt)
        if r is None or (kind == "speed" and "speedup" not in r):
            continue
        value = abs(r["change"]) if kind == "ppl" else r["speedup"]
        checks.append({"target": what, "value": value, "met": value < bound if kind == "ppl" else value >= bound})
    return table, checks


def show_serving(table, checks, args) -> None:
    print(f"\n[3] serving table: perplexity of the trained model; bytes and tokens/s of the d_model {args.d_model} "
          f"model at batch 1")
    print(tabulate([[r["format"], r["perplexity"], f"{100 * r['change']:+.2f}%",
                     r["weight_bytes"] / 1e6 if "weight_bytes" in r else None, r["kv_bytes_per_position"],
                     r.get("tok_s"), r.get("speedup"), r.get("bytes_ratio"), r.get("fraction_of_bytes_ratio")]
                    for r in table],
                   headers=["format", "perplexity", "vs fp32", "weights MB/tok", "KV bytes/position (small model)",
                            "tok/s", "speedup", "bytes ratio", "speedup/bytes ratio"],
                   floatfmt=("", ".4f", "", ".3g", "", ".3g", ".3g", ".3g", ".3g"), missingval="-"))
    for c in checks:
        print(f"  {'met   ' if c['met'] else 'MISSED'}  {c['target']}: {c['value']:.4g}")


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
    ap.add_argument("--formats", type=lambda s: s.split(","), default=SERVING,
                    help=f"comma-separated, the first is the baseline: {','.join(FORMATS)}")
    ap.add_argument("--windows", type=int, choices=range(1, 257), default=64, metavar="1..256",
                    help="held-out windows of 128 tokens for the perplexity table")
    ap.add_argument("--group", type=int, choices=[32, 64, 128], default=128, help="int4 group size")
    ap.add_argument("--alpha", type=float, default=0.5, help="SmoothQuant migration strength, 0..1")
    ap.add_argument("--gemv-group", type=int, choices=[64, 128], default=128, help="int4 group of the Triton GEMV")
    ap.add_argument("--gemv-only", action="store_true", help="only the Triton GEMV table [2]")
    ap.add_argument("--train-steps", type=int, choices=range(10, 2001), default=300, metavar="10..2000",
                    help="training steps of the lab's model (trained once per setting, then cached)")
    ap.add_argument("--json", action="store_true", help="also write results/serving.json")
    args = ap.parse_args(argv)
    unknown = [f for f in args.formats if f not in FORMATS]
    if unknown:
        ap.error(f"unknown format(s) {','.join(unknown)}; choose from {','.join(FORMATS)}")
    if not 0 <= args.alpha <= 1:
        ap.error(f"--alpha must be between 0 and 1, got {args.alpha}")
    GROUP[0], ALPHA[0] = args.group, args.alpha
    if importlib.util.find_spec("triton") is None:  # find, not import: dequant_gemv sets TRITON_INTERPRET first
        ap.exit(1, "error: this step needs triton (pip install triton); it runs on a CPU in its interpreter\n")
    if args.gemv_only:
        show_gemv(args)
        return
    quality_rows = quality(args)
    show_quality(quality_rows, args)
    rows, bandwidth = measure(args)
    show(rows, bandwidth, args)
    table, checks = serving(quality_rows, rows)
    show_serving(table, checks, args)
    if args.json:
        print("wrote", write_result("serving", {"read_bandwidth_bytes_per_s": bandwidth, "table": table,
                                                "targets": checks, "speed_rows": rows, "config": vars(args)}))


if __name__ == "__main__":
    main()
