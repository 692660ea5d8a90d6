"""TTFT, TPOT and throughput of the nano-vLLM engine at several batch sizes, beside the step model's prediction."""
from __future__ import annotations

import argparse

import torch
from tabulate import tabulate

from dlc_shared.bench import write_result
from serving import bench_model, compare, sweep


def table(rows, prefill, decode) -> str:
    print(f"step model fitted on batch {rows[0]['batch']} and {rows[-1]['batch']}: "
          f"prefill {1e3 * prefill.fixed:.3g} ms + {1e3 * prefill.per_token:.3g} ms/token, "
          f"decode {1e3 * decode.fixed:.3g} ms + {1e3 * decode.per_token:.3g} ms/sequence")
    return tabulate([[r["batch"], 1e3 * r["ttft"], 1e3 * r["predicted_ttft"], r["ttft_ratio"], 1e3 * r["tpot"],
                      1e3 * r["predicted_tpot"], r["tpot_ratio"], r["throughput"], r["predicted_throughput"],
                      r["throughput_ratio"]] for r in rows],
                    headers=["batch", "TTFT ms", "model", "ratio", "TPOT ms", "model", "ratio", "tok/s", "model",
                             "ratio"], floatfmt=".3g")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batches", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2, 4, 8, 16],
                    help="comma-separated batch sizes, ascending; the model is fitted on the first and the last")
    ap.add_argument("--prompt", type=int, choices=range(1, 257), default=32, metavar="1..256")
    ap.add_argument("--output", type=int, choices=range(2, 129), default=16, metavar="2..128")
    ap.add_argument("--repeat", type=int, choices=range(1, 11), default=3, metavar="1..10",
                    help="runs per batch size (the median run is kept)")
    ap.add_argument("--threads", type=int, choices=range(1, 65), default=1, metavar="1..64",
                    help="torch threads (the bench model's matmuls are too small to split well)")
    ap.add_argument("--json", action="store_true", help="also write results/ttft_tpot.json")
    args = ap.parse_args(argv)
    b = args.batches
    if len(b) < 3 or b != sorted(set(b)) or b[0] < 1 or b[-1] > 64:
        ap.error("--batches needs at least three ascending sizes from 1 to 64")
    torch.set_num_threads(args.threads)
    rows = sweep(bench_model(), b, args.prompt, args.output, args.repeat)
    prefill, decode, out = compare(rows, args.prompt, args.output)
    print(table(out, prefill, decode))
    if args.json:
        print("wrote", write_result("ttft_tpot", {
            "config": vars(args), "prefill_model": vars(prefill), "decode_model": vars(decode), "rows": out,
            "steps": [r["steps"] for r in rows]}))


if __name__ == "__main__":
    main()
