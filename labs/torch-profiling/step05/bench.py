"""Each change of the lab measured before and after, side by side in one run, and placed on the roofline.

    python bench.py                  # prints the table
    python bench.py --json           # also writes results/bench-<cpu|cuda>.json
"""
from __future__ import annotations

import argparse

import torch
from tabulate import tabulate

from dlc_shared.bench import median, time_fn, write_result
from attention import attention_manual, attention_sdpa, attention_traffic
from flash_attention import flash_attention, flash_traffic
from rmsnorm import rmsnorm_compiled, rmsnorm_naive, rmsnorm_triton, traffic


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def ceilings(device: torch.device, repeat: int, sync) -> dict:
    """This machine's two roofs, measured in the same run: copy bandwidth (64 MiB) and a GEMM.

    The GEMM is 1024^3 float32 on a CPU and 4096^3 bf16 (the tensor cores) on a GPU.
    """
    a = torch.empty(16 * 2**20, device=device)
    b = torch.randn(16 * 2**20, device=device)
    copy_s = min(time_fn(lambda: a.copy_(b), repeat=repeat, sync=sync))
    n, dtype = (4096, torch.bfloat16) if device.type == "cuda" else (1024, torch.float32)
    m = torch.randn(n, n, device=device, dtype=dtype)
    gemm_s = min(time_fn(lambda: m @ m, repeat=repeat, sync=sync))
    return {"bandwidth_GB_s": 2 * a.numel() * 4 / copy_s / 1e9, "peak_GFLOP_s": 2 * n**3 / gemm_s / 1e9}


def place(op: str, name: str, flops: int, nbytes: int, samples: list[float], roof: dict) -> dict:
    """One row of the before/after table: time, achieved rates, intensity and the roofline's bound."""
    seconds = median(samples)
    intensity = flops / nbytes
    bound = min(roof["peak_GFLOP_s"], roof["bandwidth_GB_s"] * intensity)   # GFLOP/s the roofline allows
    return {"op": op, "name": name, "ms": seconds * 1e3, "flops": flops, "bytes": nbytes, "intensity": intensity,
            "GB_s": nbytes / seconds / 1e9, "GFLOP_s": flops / seconds / 1e9, "roofline_GFLOP_s": bound,
            "samples_s": samples}


def bench_rmsnorm(args, device, roof, sync) -> list[dict]:
    x = torch.randn(args.rows, args.dim, device=device)
    w = torch.randn(args.dim, device=device)
    t = traffic(args.rows, args.dim)
    variants = {"naive (op by op)": (rmsnorm_naive, t["naive_bytes"]),
                "torch.compile": (rmsnorm_compiled, t["fused_bytes"])}
    if device.type == "cuda":  # the interpreter on a CPU checks correctness; its speed means nothing
        variants["triton kernel"] = (rmsnorm_triton, t["fused_bytes"])
    return [place(f"rmsnorm ({args.rows}, {args.dim})", name, t["flops"], nbytes,
                  time_fn(lambda: fn(x, w), warmup=3, repeat=args.repeat, sync=sync), roof)
            for name, (fn, nbytes) in variants.items()]


def bench_attention(args, device, roof, sync) -> list[dict]:
    shape = (args.batch, args.heads, args.seq, args.head_dim)
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(shape, generator=gen).to(device) for _ in range(3))
    t = attention_traffic(*shape)
    variants = {"manual (op by op)": (attention_manual, t["naive_bytes"]),
                "SDPA": (attention_sdpa, t["fused_bytes"])}
    return [place(f"attention {shape}", name, t["flops"], nbytes,
                  time_fn(lambda: fn(q, k, v), warmup=3, repeat=args.repeat, sync=sync), roof)
            for name, (fn, nbytes) in variants.items()]


def bench_flash(args, device, roof, sync) -> list[dict]:
    if device.type != "cuda":
        print("flash: the Triton FlashAttention kernel is measured on a GPU only (--device cuda)")
        return []
    shape = (4, 16, args.flash_seq, args.flash_head_dim)
    q, k, v = (torch.randn(shape, device=device, dtype=torch.bfloat16) for _ in range(3))
    t = flash_traffic(*shape, block_m=64)
    variants = {"SDPA bf16": lambda: attention_sdpa(q, k, v), "triton flash bf16": lambda: flash_attention(q, k, v)}
    return [place(f"causal attention {shape}", name, t["flops"], t["bytes"],
                  time_fn(fn, warmup=3, repeat=args.repeat, sync=sync), roof) for name, fn in variants.items()]


BENCHES = {"rmsnorm": bench_rmsnorm, "attention": bench_attention, "flash": bench_flash}


def op_list(text: str) -> list[str]:
    ops = text.split(",")
    unknown = [o for o in ops if o not in BENCHES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown ops {unknown}; choose from {list(BENCHES)}")
    return ops


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--ops", type=op_list, default=list(BENCHES), help=f"comma-separated, from {list(BENCHES)}")
    ap.add_argument("--rows", type=positive_int, default=4096, help="RMSNorm rows N (tokens)")
    ap.add_argument("--dim", type=positive_int, default=1024, help="RMSNorm row width D")
    ap.add_argument("--batch", type=positive_int, default=4, help="attention batch B")
    ap.add_argument("--heads", type=positive_int, default=8, help="attention heads H")
    ap.add_argument("--seq", type=positive_int, default=512, help="attention sequence length T")
    ap.add_argument("--head-dim", type=positive_int, default=64, help="attention head size d")
    ap.add_argument("--flash-seq", type=positive_int, default=4096, help="FlashAttention sequence length (GPU)")
    ap.add_argument("--flash-head-dim", type=int, choices=[16, 32, 64, 128], default=128,
                    help="FlashAttention head size (GPU)")
    ap.add_argument("--repeat", type=positive_int, default=20)
    ap.add_argument("--threads", type=positive_int, default=2, help="CPU threads for torch")
    ap.add_argument("--json", action="store_true", help="write results/bench-<device>.json")
    args = ap.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: this machine has no CUDA GPU")
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else None
    roof = ceilings(device, args.repeat, sync)
    rows = []
    for op in args.ops:
        op_rows = BENCHES[op](args, device, roof, sync)
        for r in op_rows:
            r["speedup"] = op_rows[0]["ms"] / r["ms"]          # against the first (naive) variant of this op
        rows += op_rows

    print(f"float32 on {device.type}, median of {args.repeat}; "
          f"roofs: {roof['bandwidth_GB_s']:.1f} GB/s, {roof['peak_GFLOP_s']:.1f} GFLOP/s")
    print(tabulate([[r["op"], r["name"], r["ms"], r["speedup"], r["bytes"] / 2**20, r["intensity"], r["GB_s"],
                     r["GFLOP_s"], r["roofline_GFLOP_s"]] for r in rows],
                   headers=["op", "variant", "ms", "speedup", "MiB moved", "FLOP/byte", "GB/s", "GFLOP/s",
                            "roofline"], floatfmt=".3g"))
    if args.json:
        path = write_result(f"bench-{device.type}", {"args": {k: str(v) for k, v in vars(args).items()},
                                                    "ceilings": roof, "results": rows})
        print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    main()
