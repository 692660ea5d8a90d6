"""Step 6: the reduction ladder: what each of Harris's versions removes, counted per block tree."""
from __future__ import annotations

import argparse
import tempfile
import time

import torch
from tabulate import tabulate

from dlc_kernels.cuda import bandwidth, median, nvcc_skip_reason, time_cuda
from bench import cases
from banks import conflict_ways, transpose_tile_accesses
from coalescing import efficiency, sectors, strided_read, transpose_naive_warp
from ext import compile_check
from reduction import VERSIONS, tree_profile
from tiling import fmas_per_shared_load, matmul_flops, naive_loads, tiled_loads
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
    rows = [[f"pad={pad}", access, conflict_ways(words)]
            for pad in (0, 1) for access, words in transpose_tile_accesses(pad).items()]
    print("\nshared-memory passes per warp access of the transpose tile (1 = conflict-free):")
    print(tabulate(rows, headers=["tile", "access", "passes"]))
    g = 4096
    rows = [[name, loads / g**2, matmul_flops(g, g, g) / (4 * loads)]
            for name, loads in [("naive", naive_loads(g, g, g)), ("tiled T=32", tiled_loads(g, g, g, 32))]]
    print(f"\nSGEMM {g}^3: global loads per C element, and FLOPs per byte loaded (caches ignored):")
    print(tabulate(rows, headers=["kernel", "loads / C element", "FLOP / global byte"], floatfmt=".4g"))
    print(f"\nFMAs per value read from shared memory: tiled (1x1 per thread) {fmas_per_shared_load(1, 1)}, "
          f"register-tiled (8x8 per thread) {fmas_per_shared_load(8, 8)}")
    rows = []
    for v in VERSIONS:
        steps = tree_profile(v)
        rows.append([f"reduce_v{v}", sum(r["warps issuing"] for r in steps), sum(r["divergent warps"] for r in steps),
                     max(r["smem passes"] for r in steps), sum(r["block barrier"] for r in steps)])
    print("\none block's tree (256 values in shared memory), summed over its 8 steps:")
    print(tabulate(rows, headers=["kernel", "warp-steps issued", "divergent warp-steps", "worst smem passes",
                                  "__syncthreads"]))
    n = args.mib * 2**20 // 4
    print(f"\ncopy of {args.mib} MiB moves {copy_bytes(n) / 1e9:.3f} GB (read + write)")
    if torch.cuda.is_available():
        gpu_table(args.mib, args.repeat)
    else:
        print("no CUDA GPU here: nothing to time. On an H100 the copy would take about "
              f"{copy_bytes(n) / 2.96e12 * 1e6:.0f} us at 2.96 TB/s, the copy bandwidth measured on an H100 SXM (torch 2.11, CUDA events).")


if __name__ == "__main__":
    main()
