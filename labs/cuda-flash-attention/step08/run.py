"""Step 8: the same FlashAttention in Triton beside the CUDA kernel, its twin and torch SDPA."""
from __future__ import annotations

import argparse
import tempfile

import numpy as np
import torch
from tabulate import tabulate

import reference as ref
from dlc_kernels.cuda import nvcc_skip_reason
from ext import bindings, compile_check, load_kwargs
from flash import causal_tiles, flash_forward_twin
from flash_triton import attention_triton
from naive import attention_naive_twin, naive_hbm_elements, scores_bytes
from online import online_softmax_twin, update
from sdpa import flash_sdpa
from tiling import BUDGET_BYTES, block_sizes, naive_score_loads, tile_bytes, tiled_loads
from traffic import flash_io, io_table


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def qkv(heads: int, n: int, d: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((heads, n, d)).astype(np.float32) for _ in range(3))


def reference_table(heads: int, n: int, d: int) -> list[list]:
    """The reference and the twin against torch's scaled_dot_product_attention in float64."""
    q, k, v = qkv(heads, n, d)
    t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    sdpa = torch.nn.functional.scaled_dot_product_attention(t(q), t(k), t(v)).numpy()
    o, _ = ref.attention(q, k, v)
    return [["reference (float64)", float(np.abs(o - sdpa).max())],
            ["naive twin (float32)", float(np.abs(attention_naive_twin(q, k, v) - sdpa).max())]]


def memory_table(d: int) -> list[list]:
    """The score buffer against Q, K, V and O for one head, and the elements the three kernels move."""
    return [[n, scores_bytes(1, n) / 2**20, 4 * 4 * n * d / 2**20, naive_hbm_elements(n, d) * 4 / 2**20]
            for n in (1024, 4096, 16384, 65536)]


def online_tables(n: int) -> None:
    """The running (m, l) along a short row, then the twin against float64 on rows scaled up."""
    row = np.array([1.0, 3.0, 2.0, 5.0, 0.0])
    m, l, table = np.array(-np.inf), np.array(0.0), []
    for x in row:
        m_old = m
        m, l = update(m, l, np.array(x))
        table.append([x, float(m), float(np.exp(m_old - m)), float(l)])
    print(f"\nonline softmax over {row.tolist()}: the old sum is rescaled whenever the max grows")
    print(tabulate(table, headers=["x", "m", "rescale exp(m_old - m)", "l"], floatfmt=".4f"))
    rng = np.random.default_rng(1)
    rows = []
    for scale in (1, 30, 1000):
        x = (rng.standard_normal((8, n)) * scale).astype(np.float32)
        rows.append([scale, float(np.abs(online_softmax_twin(x) - ref.softmax(x)).max())])
    print(f"\nonline softmax twin (float32, rows of {n}) against float64:")
    print(tabulate(rows, headers=["x scale", "max |twin - float64|"], floatfmt=".1e"))


def tiling_table(n: int) -> None:
    """Block sizes from the budget, the tiles' shared bytes, and the global loads of the scores."""
    rows = []
    for d in (64, 128):
        br, bc = block_sizes(BUDGET_BYTES, d)
        rows.append([d, br, bc, tile_bytes(br, bc, d), naive_score_loads(n, d) / tiled_loads(n, d, br)])
    print(f"\nshared-memory budget {BUDGET_BYTES} B; global loads of the scores at n = {n}, naive / tiled:")
    print(tabulate(rows, headers=["d", "BR", "BC", "tile B", "loads naive / tiled"], floatfmt=".4g"))


def io_tables(n: int) -> None:
    """Naive against flash HBM traffic for one head: over the SRAM size, then over n."""
    rows = [[d, kib, *io_table(n, d, kib * 1024).values()] for d in (64, 128) for kib in (32, 64, 128, 228)]
    print(f"\nHBM traffic of one head at n = {n}, float32, blocks from the SRAM size:")
    print(tabulate(rows, headers=["d", "SRAM KiB", "BR", "BC", "naive B", "flash B", "naive / flash"],
                   floatfmt=".4g"))
    rows = [[m, *io_table(m, 64, 128 * 1024).values()] for m in (512, 2048, 8192, 32768)]
    print("\nd = 64, SRAM 128 KiB: the ratio settles once n >> d (both grow as n^2):")
    print(tabulate(rows, headers=["n", "BR", "BC", "naive B", "flash B", "naive / flash"], floatfmt=".4g"))


def flash_table(heads: int, n: int, d: int) -> None:
    """The flash twin against float64 (O and lse), and the elements it moved against the loop counter."""
    q, k, v = qkv(heads, n, d)
    o_ref, lse_ref = ref.attention(q, k, v)
    rows = []
    for br, bc in ((16, 16), (32, 8), (n, n)):
        o, lse, io = flash_forward_twin(q, k, v, br, bc)
        rows.append([br, bc, float(np.abs(o - o_ref).max()), float(np.abs(lse - lse_ref).max()),
                     io["reads"] + io["writes"], heads * sum(flash_io(n, d, br, bc).values())])
    print(f"\nflash twin (float32) against float64, (heads, n, d) = ({heads}, {n}, {d}):")
    print(tabulate(rows, headers=["BR", "BC", "max |O diff|", "max |lse diff|", "elements moved", "flash_io"],
                   floatfmt=".1e"))


def causal_table(heads: int, n: int, d: int) -> None:
    """The causal twin against float64, and the K, V tiles it visits against all of them."""
    q, k, v = qkv(heads, n, d)
    o, _, io = flash_forward_twin(q, k, v, 16, 16, causal=True)
    print(f"\ncausal flash twin (float32, BR = BC = 16) against float64: "
          f"{float(np.abs(o - ref.attention(q, k, v, causal=True)[0]).max()):.1e}, "
          f"{io['tiles']} tiles visited of {heads * (-(-n // 16))**2}")
    rows = []
    for size in (256, 1024, 4096, 16384):
        for br in (32, 16):
            total = (-(-size // br)) ** 2
            rows.append([size, br, causal_tiles(size, br, br), total, causal_tiles(size, br, br) / total])
    print("\nK, V tiles one head visits, causal skipping against none:")
    print(tabulate(rows, headers=["n", "BR = BC", "causal", "all", "fraction"], floatfmt=".4f"))


def sdpa_table(heads: int, n: int, d: int) -> None:
    """flash_sdpa against torch SDPA on the CPU, both in float32 and in float64, with and without the mask."""
    q, k, v = (torch.randn(2, heads, n, d, generator=torch.Generator().manual_seed(s)) for s in range(3))
    sdpa = torch.nn.functional.scaled_dot_product_attention
    exact = {c: sdpa(q.double(), k.double(), v.double(), is_causal=c) for c in (False, True)}
    rows = []
    for dtype in (torch.float32, torch.float64):
        for causal in (False, True):
            a, b, c = q.to(dtype), k.to(dtype), v.to(dtype)
            ours, theirs = flash_sdpa(a, b, c, is_causal=causal), sdpa(a, b, c, is_causal=causal)
            rows.append([str(dtype).removeprefix("torch."), causal, float((ours - exact[causal]).abs().max()),
                         float((theirs - exact[causal]).abs().max()), float((ours - theirs).abs().max())])
    print(f"\nflash_sdpa (twin) and torch SDPA on the CPU, (batch, heads, n, d) = (2, {heads}, {n}, {d}):")
    print(tabulate(rows, headers=["dtype", "causal", "|ours - f64|", "|SDPA - f64|", "|ours - SDPA|"],
                   floatfmt=".1e"))


def triton_table(heads: int, n: int, d: int) -> None:
    """The Triton kernel (the interpreter without a GPU) against float64: O and lse, over block shapes."""
    if d < 16 or d & (d - 1):
        print(f"\nTriton kernel: skipped, head dimension {d} is not a power of two >= 16 (tl.dot needs one)")
        return
    device = "cuda" if torch.cuda.is_available() else "cpu"
    q, k, v = (torch.tensor(a, device=device) for a in qkv(heads, n, d))
    rows = []
    for causal in (False, True):
        o_ref, lse_ref = ref.attention(*(t.cpu().numpy() for t in (q, k, v)), causal=causal)
        for bm, bn in ((16, 16), (32, 16), (64, 64)):
            o, lse = attention_triton(q, k, v, causal, block_m=bm, block_n=bn)
            rows.append([causal, bm, bn, -(-n // bm) * heads, float(np.abs(o.cpu().numpy() - o_ref).max()),
                         float(np.abs(lse.cpu().numpy() - lse_ref).max())])
    where = torch.cuda.get_device_name(0) if device == "cuda" else "Triton interpreter, CPU"
    print(f"\nTriton kernel (float32, {where}) against float64, (heads, n, d) = ({heads}, {n}, {d}):")
    print(tabulate(rows, headers=["causal", "BLOCK_M", "BLOCK_N", "programs", "max |O diff|", "max |lse diff|"],
                   floatfmt=".1e"))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heads", type=positive_int, default=2, help="heads of the example inputs")
    ap.add_argument("--n", type=positive_int, default=64, help="sequence length of the example inputs")
    ap.add_argument("--d", type=positive_int, default=32, help="head dimension")
    args = ap.parse_args(argv)
    if reason := nvcc_skip_reason():
        ap.error(reason)

    print(f"against torch SDPA in float64, (heads, n, d) = ({args.heads}, {args.n}, {args.d}):")
    print(tabulate(reference_table(args.heads, args.n, args.d), headers=["attention", "max |diff|"], floatfmt=".1e"))
    with tempfile.TemporaryDirectory() as tmp:
        built = compile_check(tmp)
    print(f"\nptxas report for {built.arch}:")
    print(tabulate([[k.name, k.registers, k.shared_bytes, k.spill_stores + k.spill_loads] for k in built.kernels],
                   headers=["kernel", "registers", "shared B", "spill B"]))
    print("\ntorch.utils.cpp_extension.load(")
    for key, value in load_kwargs().items():
        print(f"    {key}={value!r},")
    print(f")  -> a module with {', '.join(bindings())}")
    print(f"\none head, d = {args.d}, float32: the score buffer grows as n^2, the inputs and output as n:")
    print(tabulate(memory_table(args.d), headers=["n", "S MiB", "Q+K+V+O MiB", "HBM traffic MiB"], floatfmt=".4g"))
    online_tables(args.n)
    tiling_table(4096)
    io_tables(4096)
    flash_table(args.heads, args.n, args.d)
    causal_table(args.heads, args.n, args.d)
    sdpa_table(args.heads, args.n, args.d)
    triton_table(args.heads, args.n, args.d)
    if torch.cuda.is_available():
        from ext import ops
        q, k, v = (torch.randn(args.heads, args.n, args.d, device="cuda") for _ in range(3))
        expected = torch.nn.functional.scaled_dot_product_attention(q.double(), k.double(), v.double())
        print(f"\n{torch.cuda.get_device_name(0)}: attention_naive against float64 SDPA: "
              f"{float((ops().attention_naive(q, k, v) - expected).abs().max()):.1e}")
        if args.d in (64, 128):
            s = ops().scores_tiled(q, k)
            print(f"scores_tiled against float64: "
                  f"{float((s - q.double() @ k.double().transpose(1, 2) / args.d**0.5).abs().max()):.1e}")
            o, lse = ops().attention_flash(q, k, v)
            print(f"attention_flash against float64 SDPA: {float((o - expected).abs().max()):.1e}")
            expected = torch.nn.functional.scaled_dot_product_attention(q.double(), k.double(), v.double(),
                                                                        is_causal=True)
            o, lse = ops().attention_flash(q, k, v, causal=True)
            print(f"attention_flash causal against float64 SDPA: {float((o - expected).abs().max()):.1e}")
        x = q.reshape(-1, args.d)
        print(f"softmax_online against float64 torch.softmax: "
              f"{float((ops().softmax_online(x) - torch.softmax(x.double(), -1)).abs().max()):.1e}")
    else:
        print("\nno CUDA GPU here: the module is not built or loaded; the kernels are checked by compile only.")


if __name__ == "__main__":
    main()
