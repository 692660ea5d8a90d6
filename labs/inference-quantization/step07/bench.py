"""Time the Triton dequant-fused int4 GEMV on a GPU: GB/s it reads, as a fraction of the GPU's bandwidth.

    python bench.py --json          (needs CUDA; writes results/dequant_gemv_<gpu>.json)
"""
from __future__ import annotations

import argparse
import sys

import torch
from tabulate import tabulate

from dlc_shared.bench import median, write_result

# HBM bandwidth from the datasheets: https://www.nvidia.com/en-us/data-center/h100/ and /h200/
PEAK_GBS = {"H100 SXM": 3350, "H100 PCIe": 2000, "H100 NVL": 3900, "H200": 4800, "A100-SXM4-80GB": 2039}


def peak_for(name: str, override: float | None) -> float | None:
    if override:
        return override
    return next((v for k, v in PEAK_GBS.items() if all(w in name for w in k.split())), None)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", default="4096x4096,8192x8192,14336x4096,4096x14336",
                    help="comma-separated NxK (N outputs, K inputs; K a multiple of 128)")
    ap.add_argument("--group", type=int, choices=[64, 128], default=128)
    ap.add_argument("--repeat", type=int, choices=range(1, 1001), default=100, metavar="1..1000")
    ap.add_argument("--peak-gbs", type=float, default=None, help="memory bandwidth to compare with, GB/s")
    ap.add_argument("--json", action="store_true", help="write results/dequant_gemv_<gpu>.json")
    args = ap.parse_args(argv)
    try:
        shapes = [tuple(int(v) for v in s.lower().split("x")) for s in args.shapes.split(",")]
        assert all(len(s) == 2 and s[0] > 0 and s[1] % 128 == 0 and s[1] > 0 for s in shapes)
    except (ValueError, AssertionError):
        ap.error(f"--shapes must be NxK pairs with K a positive multiple of 128, got {args.shapes!r}")
    if not torch.cuda.is_available():
        sys.exit("error: bench.py measures the kernel on a CUDA GPU; this machine has none "
                 "(the CPU checks are the tests, run in Triton's interpreter)")
    import dequant_gemv

    name = torch.cuda.get_device_name(0)
    peak = peak_for(name, args.peak_gbs)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    rows = []
    for n, k in shapes:
        g = torch.Generator(device="cuda").manual_seed(0)
        packed = torch.randint(0, 256, (n, k // 2), dtype=torch.uint8, device="cuda", generator=g)
        sz = torch.rand(k // args.group, n, 2, device="cuda", generator=g)
        x = torch.randn(k, device="cuda", generator=g)
        nbytes = dequant_gemv.gemv_bytes(n, k, args.group)["fused"]
        for _ in range(10):
            dequant_gemv.int4_gemv(x, packed, sz, args.group)
        samples = []
        for _ in range(args.repeat):
            start.record()
            dequant_gemv.int4_gemv(x, packed, sz, args.group)
            end.record()
            end.synchronize()
            samples.append(start.elapsed_time(end) / 1e3)
        t = median(samples)
        rows.append({"N": n, "K": k, "bytes": nbytes, "seconds": t, "gb_s": nbytes / t / 1e9,
                     "fraction_of_peak": nbytes / t / 1e9 / peak if peak else None, "samples": samples})
    print(f"dequant-fused int4 GEMV on {name}, group {args.group}; peak {peak} GB/s (datasheet)")
    print(tabulate([[r["N"], r["K"], r["bytes"] / 1e6, r["seconds"] * 1e6, r["gb_s"], r["fraction_of_peak"]]
                    for r in rows], headers=["N", "K", "MB read", "µs", "GB/s", "of peak"], floatfmt=".3g"))
    if args.json:
        slug = name.replace(" ", "_").replace("/", "_")
        print("wrote", write_result(f"dequant_gemv_{slug}", {"gpu": name, "peak_gb_s": peak, "group": args.group,
                                                            "rows": rows}, packages=("torch", "triton")))


if __name__ == "__main__":
    main()
