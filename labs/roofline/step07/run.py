"""Count a matmul's FLOPs, bytes and intensity, measure this machine's two ceilings, draw its roofline,
see how tiling raises a matmul's intensity, and place a transformer's prefill and decode on the roofline."""
from __future__ import annotations

import argparse

import numpy as np
import torch
from tabulate import tabulate

from ceilings import DATASHEET, DEFAULT_GEMM_N, MEASURED_ELSEWHERE, device_name, measure_ceilings, peak_dtype
from dlc_shared.bench import median, time_fn, write_result
from intensity import matmul_op, standard_ops
from matmul import matmul_bytes_ideal, matmul_bytes_naive, matmul_flops, naive_matmul
from roofline import attainable, bound, measure_op, plot_roofline, ridge_point
from tiling import Traffic, fast_memory_bytes, tiled_intensity, tiled_matmul, tiled_matmul_bytes
from transformer_ops import LLAMA3_8B, layer_ops, ridge_batch, roofline_seconds, total


def parse_shapes(text: str) -> list[tuple[int, int, int]]:
    """'64x64x64,64x1x64' -> [(64, 64, 64), (64, 1, 64)] as (M, N, K)."""
    shapes = []
    for item in text.split(","):
        parts = item.strip().lower().split("x")
        if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise argparse.ArgumentTypeError(f"'{item}' is not a shape MxNxK of positive integers")
        shapes.append(tuple(int(p) for p in parts))
    return shapes


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def png_path(text: str) -> str:
    if not text.lower().endswith(".png"):
        raise argparse.ArgumentTypeError(f"'{text}' is not a .png path")
    return text


def show_flops(shapes, repeat: int) -> None:
    rng = np.random.default_rng(0)
    rows = []
    for m, n, k in shapes:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        a_list, b_list = a.tolist(), b.tolist()
        t_naive = median(time_fn(lambda: naive_matmul(a_list, b_list), warmup=1, repeat=repeat))
        t_blas = median(time_fn(lambda: a @ b, warmup=2, repeat=repeat))
        err = np.abs(np.array(naive_matmul(a_list, b_list)) - a.astype(np.float64) @ b).max()
        flops = matmul_flops(m, n, k)
        rows.append([f"{m}x{n}x{k}", flops, t_naive * 1e3, flops / t_naive / 1e6,
                     t_blas * 1e3, flops / t_blas / 1e9, t_naive / t_blas, err])
    print("\n[1] matmul FLOPs = 2*M*N*K  (naive Python loop vs NumPy float32)")
    print(tabulate(rows, headers=["M x N x K", "FLOPs", "naive ms", "naive MFLOP/s",
                                  "numpy ms", "numpy GFLOP/s", "speedup", "max |err|"],
                   floatfmt=".3g", intfmt=","))


def show_bytes(shapes, itemsize: int = 4) -> None:
    rows = []
    for m, n, k in shapes:
        ideal, naive = matmul_bytes_ideal(m, n, k, itemsize), matmul_bytes_naive(m, n, k, itemsize)
        rows.append([f"{m}x{n}x{k}", matmul_flops(m, n, k), ideal, naive, naive / ideal])
    print(f"\n[2] bytes moved, float32: ideal = {itemsize}*(MK+KN+MN), naive = {itemsize}*(2MNK+MN)")
    print(tabulate(rows, headers=["M x N x K", "FLOPs", "ideal bytes", "naive bytes", "naive / ideal"],
                   floatfmt=".3g", intfmt=","))


def show_intensity(ops) -> None:
    rows = [[op.name, "x".join(map(str, op.shape)), op.flops, op.bytes / 1e6, op.intensity] for op in ops]
    print("\n[3] arithmetic intensity = FLOPs / ideal bytes  (float32)")
    print(tabulate(rows, headers=["op", "shape", "FLOPs", "MB moved", "FLOP/byte"], floatfmt=".3g", intfmt=","))


def show_ceilings(device: torch.device, stream_mib: int | None, gemm_n: int | None) -> tuple[float, float]:
    probes, peak, bandwidth = measure_ceilings(device, stream_mib, gemm_n)
    rows = [[p.name, p.best / 1e9, p.median / 1e9, "GFLOP/s" if p.name.startswith("GEMM") else "GB/s"]
            for p in probes]
    print(f"\n[4] this machine's ceilings: {device_name(device)}")
    print(tabulate(rows, headers=["probe", "best", "median", "unit"], floatfmt=".4g"))
    dtype = str(peak_dtype(device)).removeprefix("torch.")
    machines = [[f"this machine ({device.type}, {dtype})", peak / 1e12, bandwidth / 1e12]]
    machines += [[name, p / 1e12, b / 1e12] for name, (p, b) in {**DATASHEET, **MEASURED_ELSEWHERE}.items()]
    print(tabulate(machines, headers=["machine", "peak TFLOP/s", "bandwidth TB/s"], floatfmt=".4g"))
    return peak, bandwidth


def show_roofline(device: torch.device, peak: float, bandwidth: float, rows: int, cols: int,
                  gemm_n: int | None, plot_path: str) -> list[dict]:
    """Measure the standard ops, print them against the roofs, plot them; return what was measured."""
    dtype = peak_dtype(device)  # measure in the dtype the peak was measured in
    gemm_n = gemm_n or DEFAULT_GEMM_N[device.type]
    ops = standard_ops(rows, cols, gemm_n, itemsize=dtype.itemsize)
    h100 = DATASHEET["H100 SXM (datasheet, bf16)"]
    table, points, records = [], [], []
    for op, op_bf16 in zip(ops, standard_ops(rows, cols, gemm_n, itemsize=2)):
        probe = measure_op(op, device, dtype)
        achieved = probe.median
        roof = float(attainable(op.intensity, peak, bandwidth))
        table.append([op.name, op.intensity, achieved / 1e9, roof / 1e9, 100 * achieved / roof,
                      bound(op, peak, bandwidth), bound(op_bf16, *h100)])
        points.append((op.name, op.intensity, achieved))
        records.append({"op": op.name, "shape": list(op.shape), "flops": op.flops, "bytes": op.bytes,
                        "intensity": op.intensity, "samples_s": probe.samples, "measured_gflops": achieved / 1e9,
                        "roof_gflops": roof / 1e9, "percent_of_roof": 100 * achieved / roof})
    ridges = ", ".join(f"{name.split(' (')[0]} {ridge_point(p, b):.3g}" for name, (p, b) in DATASHEET.items())
    print(f"\n[5] roofline: ridge point (FLOP/byte) of this machine {ridge_point(peak, bandwidth):.3g}; {ridges}")
    print(tabulate(table, headers=["op", "FLOP/byte", "measured GFLOP/s", "roof GFLOP/s", "% of roof",
                                   "bound here", "bound on H100 (bf16)"], floatfmt=".3g"))
    roofs = [(f"this machine ({device.type}, {str(dtype).removeprefix('torch.')})", peak, bandwidth)]
    roofs += [(name, p, b) for name, (p, b) in DATASHEET.items()]
    path = plot_roofline(plot_path, roofs, points, f"Roofline of {device_name(device)}, measured ops (triangles)")
    print(f"wrote {path}")
    return records


def show_tiling(n: int, peak: float, bandwidth: float) -> None:
    h100_ridge = ridge_point(*DATASHEET["H100 SXM (datasheet, bf16)"])
    here_ridge = ridge_point(peak, bandwidth)
    tiles = sorted({t for t in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024) if t < n} | {n})
    rows = []
    for t in tiles:
        ai = tiled_intensity(n, n, n, t)
        rows.append([t, tiled_matmul_bytes(n, n, n, t) / 1e6, ai, fast_memory_bytes(t) / 2**10,
                     "compute" if ai >= here_ridge else "memory",
                     "compute" if tiled_intensity(n, n, n, t, itemsize=2) >= h100_ridge else "memory"])
    print(f"\n[6] tiling a {n}x{n}x{n} matmul: bytes(T) = 4*(2*n^3/T + n^2) for T x T tiles (float32)")
    print(tabulate(rows, headers=["tile T", "MB moved", "FLOP/byte", "fast memory KiB (3 tiles)",
                                  f"bound here (ridge {here_ridge:.3g})",
                                  f"bound on H100 bf16 (ridge {h100_ridge:.0f})"],
                   floatfmt=("", ",.0f", ".4g", ",.2f"), intfmt=","))
    # the same model, checked by counting the tiles a real tiled loop moves
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((256, 256)).astype(np.float32), rng.standard_normal((256, 256)).astype(np.float32)
    traffic = Traffic()
    err = np.abs(tiled_matmul(a, b, 32, traffic) - a.astype(np.float64) @ b).max()
    print(f"tiled_matmul 256^3, T=32: moved {traffic.loaded + traffic.stored:,} bytes, "
          f"model {tiled_matmul_bytes(256, 256, 256, 32):,}; max |err| vs float64 {err:.2g}")


def show_prefill_decode(device: torch.device, peak: float, bandwidth: float, rows: int, cols: int,
                        prompt: int, context: int, plot_path: str) -> list[dict]:
    shape, gpus = LLAMA3_8B, list(DATASHEET.items())
    h100 = DATASHEET["H100 SXM (datasheet, bf16)"]
    cases = [(f"prefill {prompt} tokens", 1, prompt, prompt)]
    cases += [(f"decode B={b}, context {context}", b, 1, context) for b in (1, 16, 64, 256, 1024)]
    table, model_points = [], []
    for label, batch, q_len, kv_len in cases:
        ops = layer_ops(shape, batch, q_len, kv_len)
        layer = total(ops, label)
        weights = total([op for op in ops if op.kind == "matmul"], "weight matmuls")
        attention = next(op for op in ops if op.kind == "attention")
        seconds = shape.n_layers * roofline_seconds(layer, *h100)
        table.append([label, layer.flops / 1e9, layer.bytes / 1e6, weights.intensity, attention.intensity,
                      layer.intensity, *(bound(layer, p, b) for _, (p, b) in gpus), batch * q_len / seconds])
        if batch in (1, 16, 256):  # a few points keep the plot's labels apart
            model_points.append((f"{shape.name} {label.split(',')[0]} (H100 roof)", layer.intensity,
                                 float(attainable(layer.intensity, *h100))))
    print(f"\n[7] one {shape.name} layer in bf16 at prefill and decode (roofline model)")
    print(tabulate(table, headers=["phase", "GFLOP", "MB", "FLOP/B weights", "FLOP/B attention", "FLOP/B layer",
                                   *(f"bound {name.split(' (')[0]}" for name, _ in gpus), "tokens/s H100 (model)"],
                   floatfmt=".4g"))

    dtype = peak_dtype(device)
    here = (f"this machine ({str(dtype).removeprefix('torch.')})", ridge_point(peak, bandwidth), dtype.itemsize)
    ridges = [(name, ridge_point(p, b), 2) for name, (p, b) in gpus] + [here]
    d, ff, qkv = shape.d_model, shape.d_ff, (shape.n_heads + 2 * shape.n_kv_heads) * shape.head_dim
    weights = [("QKV projection", qkv, d), ("output projection", d, shape.n_heads * shape.head_dim),
               ("gate+up projection", 2 * ff, d), ("down projection", d, ff)]
    print("\nridge batch: the fewest decode tokens that make each weight matmul compute-bound")
    print(tabulate([[name, f"{k}x{n}", *(ridge_batch(n, k, r, s) for _, r, s in ridges)] for name, n, k in weights],
                   headers=["weight", "k x n", *(f"{name.split(' (')[0]} (ridge {r:.3g})" for name, r, _ in ridges)]))

    sweep, measured_points, records = [], [], []
    for tokens in (1, 4, 16, 64, 256):
        op = matmul_op(f"B={tokens}", tokens, rows, cols, dtype.itemsize)
        probe = measure_op(op, device, dtype)
        achieved = probe.median
        sweep.append([tokens, op.intensity, achieved / 1e9, float(attainable(op.intensity, peak, bandwidth)) / 1e9,
                      bound(op, peak, bandwidth)])
        measured_points.append((f"{op.name} measured here", op.intensity, achieved))
        records.append({"tokens": tokens, "shape": list(op.shape), "flops": op.flops, "bytes": op.bytes,
                        "intensity": op.intensity, "samples_s": probe.samples, "measured_gflops": achieved / 1e9})
    print(f"\nmeasured here: decode-like matmul (B x {cols}) @ ({cols} x {rows}) on {device_name(device)}")
    print(tabulate(sweep, headers=["tokens B", "FLOP/byte", "measured GFLOP/s", "roof GFLOP/s", "bound here"],
                   floatfmt=".4g"))
    roofs = [(f"this machine ({device.type}, {str(dtype).removeprefix('torch.')})", peak, bandwidth)]
    roofs += [(name, p, b) for name, (p, b) in gpus]
    path = plot_roofline(plot_path, roofs, measured_points + model_points,
                         f"Prefill vs decode: {shape.name} layer (model) and a decode matmul measured here")
    print(f"wrote {path}")
    return records


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shapes", type=parse_shapes, default=parse_shapes("16x16x16,32x32x32,64x64x64,64x1x64"),
                    help="comma-separated MxNxK; keep them small, the naive loop is pure Python")
    ap.add_argument("--repeat", type=int, choices=range(1, 101), default=3, metavar="1..100",
                    help="timed calls of each matmul in table [1] (the median is reported)")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--stream-mib", type=positive_int, help="MiB per STREAM array (default: 256 cpu, 1024 cuda)")
    ap.add_argument("--gemm-n", type=positive_int, help="size of the peak GEMM (default: 2048 cpu, 8192 cuda)")
    ap.add_argument("--rows", type=positive_int, default=8192, help="activation rows of the measured ops")
    ap.add_argument("--cols", type=positive_int, default=4096, help="activation columns of the measured ops")
    ap.add_argument("--plot", type=png_path, default="results/roofline.png", help="where to write the roofline PNG")
    ap.add_argument("--json", action="store_true", help="also write results/run-<device>.json (what was measured)")
    ap.add_argument("--tile-n", type=positive_int, default=4096, help="size of the square matmul in the tiling table")
    ap.add_argument("--prompt", type=positive_int, default=2048, help="prompt tokens at prefill")
    ap.add_argument("--context", type=positive_int, default=2048, help="tokens in the KV cache at decode")
    ap.add_argument("--plot-decode", type=png_path, default="results/prefill_decode.png",
                    help="where to write the prefill/decode PNG")
    args = ap.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: this machine has no CUDA GPU")
    show_flops(args.shapes, args.repeat)
    show_bytes(args.shapes)
    show_intensity(standard_ops())
    device = torch.device(args.device)
    peak, bandwidth = show_ceilings(device, args.stream_mib, args.gemm_n)
    measured = show_roofline(device, peak, bandwidth, args.rows, args.cols, args.gemm_n, args.plot)
    show_tiling(args.tile_n, peak, bandwidth)
    sweep = show_prefill_decode(device, peak, bandwidth, args.rows, args.cols, args.prompt, args.context,
                                args.plot_decode)
    if args.json:
        path = write_result(f"run-{device.type}", {
            "device": device_name(device), "args": {k: v for k, v in vars(args).items() if k != "shapes"},
            "ceilings": {"peak_flops": peak, "bandwidth_bytes_per_s": bandwidth,
                         "ridge_flop_per_byte": ridge_point(peak, bandwidth)},
            "roofline": measured, "decode_sweep": sweep})
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
