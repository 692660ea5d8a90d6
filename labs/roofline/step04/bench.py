"""Benchmark the two ceilings: STREAM copy/triad across array sizes (caches, then DRAM) and GEMM sizes.

    python bench.py                  # prints the table
    python bench.py --json           # also writes results/ceilings-<cpu|cuda>.json
"""
from __future__ import annotations

import argparse

import torch
from tabulate import tabulate

from ceilings import device_name, gemm_peak, peak_dtype, stream_copy, stream_triad
from dlc_shared.bench import write_result

DEFAULT_SIZES_MIB = {"cpu": "1,4,16,64,256", "cuda": "16,64,256,1024"}
DEFAULT_GEMM = {"cpu": "512,1024,2048", "cuda": "2048,4096,8192"}


def int_list(text: str) -> list[int]:
    items = text.split(",")
    if not all(i.isdigit() and int(i) > 0 for i in items):
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of positive integers")
    return [int(i) for i in items]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--sizes-mib", type=int_list, help="MiB per STREAM array (default: 1..256 cpu, 16..1024 cuda)")
    ap.add_argument("--gemm", type=int_list, help="GEMM sizes n (default: 512..2048 cpu, 2048..8192 cuda)")
    ap.add_argument("--repeat", type=int, choices=range(1, 101), default=10, metavar="1..100")
    ap.add_argument("--json", action="store_true", help="write results/ceilings-<device>.json")
    args = ap.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: this machine has no CUDA GPU")
    device = torch.device(args.device)
    sizes = args.sizes_mib or int_list(DEFAULT_SIZES_MIB[device.type])
    gemms = args.gemm or int_list(DEFAULT_GEMM[device.type])
    dtypes = sorted({torch.float32, peak_dtype(device)}, key=str)

    records = []
    for mib in sizes:
        for probe in (stream_copy, stream_triad):
            p = probe(mib * 2**20 // 4, device, args.repeat)
            records.append({"probe": p.name, "size": f"{mib} MiB/array", "unit": "GB/s", "work": p.work,
                            "samples_s": p.samples, "median": p.median / 1e9, "best": p.best / 1e9})
    for n in gemms:
        for dtype in dtypes:
            p = gemm_peak(n, device, dtype, args.repeat)
            records.append({"probe": p.name, "size": f"n={n}", "unit": "GFLOP/s", "work": p.work,
                            "samples_s": p.samples, "median": p.median / 1e9, "best": p.best / 1e9})

    print(f"ceilings of {device_name(device)} ({device.type}), {args.repeat} timed calls each")
    print(tabulate([[r["probe"], r["size"], r["median"], r["best"], r["unit"]] for r in records],
                   headers=["probe", "size", "median", "best", "unit"], floatfmt=".4g"))
    if args.json:
        path = write_result(f"ceilings-{device.type}", {"device": device_name(device), "repeat": args.repeat,
                                                       "results": records})
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
