"""Step 2: coalesced, strided and transposed access: sectors per warp (model) and, on a GPU, GB/s."""
from __future__ import annotations

import argparse
import tempfile
import time

import torch
from tabulate import tabulate

from dlc_kernels.cuda import bandwidth, median, nvcc_skip_reason, time_cuda
from bench import cases
from coalescing import efficiency, sectors, strided_read, transpose_naive_warp
from ext import compile_check
from traffic import copy_bytes


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def host_clock_without_sync(fn, repeat: int) -> float:
    """The wrong way: perf_counter around an asynchronous launch measures the launch, not the kernel."""
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t0) / repeat


def gpu_table(mib: int, repeat: int) -> None:
    """Every kernel of bench.py timed two ways: CUDA events (right) and a host clock without sync (wrong)."""
    rows = []
    for kernel, size, fn, nbytes, flops in cases(mib):
        t = median(time_cuda(fn, repeat=repeat))
        host = host_clock_without_sync(fn, repeat)
        torch.cuda.synchronize()
        rows.append([kernel, size, t * 1e6, host * 1e6, bandwidth(nbytes, t) / 1e9 if nbytes else None,
                     flops / t / 1e12 if flops else None])
    print(f"{torch.cuda.get_device_name(0)}, median of {repeat} after warm-up")
    print(tabulate(rows, headers=["kernel", "size", "event us", "host clock us (no sync)", "GB/s", "TFLOP/s"],
                   floatfmt=".1f", missingval="-"))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=positive_int, default=256, help="MiB per array on the GPU")
    ap.add_argument("--repeat", type=int, choices=range(1, 1001), default=50, metavar="1..1000")
    args = ap.parse_args(argv)
    if reason := nvcc_skip_reason():
        ap.error(reason)

    with tempfile.TemporaryDirectory() as tmp:
        built = compile_check(tmp)
    print(f"ptxas report for {built.arch}:")
    print(tabulate([[k.name, k.registers, k.shared_bytes, k.spill_stores + k.spill_loads] for k in built.kernels],
                   headers=["kernel", "registers", "shared B", "spill B"]))
    read, write = transpose_naive_warp(8192, 8192)
    patterns = [(f"strided read s={s}", strided_read(s)) for s in (1, 2, 4, 8, 32)]
    patterns += [("transpose_naive read", read), ("transpose_naive write", write)]
    print("\nsectors one warp touches (32 B each), and the share of their bytes it uses:")
    print(tabulate([[name, sectors(addr), f"{efficiency(addr):.1%}"] for name, addr in patterns],
                   headers=["access", "sectors", "bytes used"]))
    n = args.mib * 2**20 // 4
    print(f"\ncopy of {args.mib} MiB moves {copy_bytes(n) / 1e9:.3f} GB (read + write)")
    if torch.cuda.is_available():
        gpu_table(args.mib, args.repeat)
    else:
        print("no CUDA GPU here: nothing to time. On an H100 the copy would take about "
              f"{copy_bytes(n) / 2.96e12 * 1e6:.0f} us at 2.96 TB/s, the copy bandwidth measured on an H100 SXM (torch 2.11, CUDA events).")


if __name__ == "__main__":
    main()
