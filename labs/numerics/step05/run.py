"""Bit layouts of the formats, the error of summing many bfloat16 numbers, softmax overflow,
mixed-precision training and dynamic loss scaling, against float64."""
from __future__ import annotations

import argparse
import math

import numpy as np
import torch
from tabulate import tabulate

from accumulate import METHODS, naive_sum, stall_value
from loss_scaling import DynamicLossScaler, make_fp16_problem, scaled_grad, train_fp16
from mixed_precision import (loss_and_grad, make_problem, mse, train_low_precision_only,
                             train_master_weights, train_reference)
from softmax import exp_overflow_threshold, naive_softmax, stable_softmax
from formats import FORMATS, bit_string, classify, decode, limits, torch_bits


def parse_values(text: str) -> list[float]:
    """'1,-2.5,inf,nan' -> [1.0, -2.5, inf, nan]."""
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of numbers") from None


def parse_sizes(text: str) -> list[int]:
    """'1024,8192' -> [1024, 8192]."""
    parts = text.split(",")
    if not all(p.strip().isdigit() and 0 < int(p) <= 65536 for p in parts):
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of sizes 1..65536")
    return [int(p) for p in parts]


def show_layouts() -> None:
    rows = []
    for fmt in FORMATS.values():
        lim, info = limits(fmt), torch.finfo(fmt.torch_dtype)
        agree = (lim["max"] == info.max and lim["smallest_normal"] == info.smallest_normal
                 and lim["eps"] == info.eps and fmt.bits == info.bits)
        rows.append([fmt.name, f"1/{fmt.exp_bits}/{fmt.man_bits}", fmt.bias, lim["max"], lim["smallest_normal"],
                     lim["smallest_subnormal"], lim["eps"], "yes" if agree else "NO"])
    print("\n[1] layouts: sign/exponent/mantissa bits and the limits they imply (decoded by hand)")
    print(tabulate(rows, headers=["format", "s/e/m", "bias", "max", "smallest normal", "smallest subnormal",
                                  "eps", "= torch.finfo"], floatfmt=".4g"))


def show_values(values: list[float]) -> None:
    rows = []
    for v in values:
        for fmt in FORMATS.values():
            bits = torch_bits(v, fmt)
            back = decode(bits, fmt)
            rows.append([v, fmt.name, bit_string(bits, fmt), classify(bits, fmt), back,
                         "" if math.isnan(back) or back == v else f"{back - v:+.3g}"])
    print("\n[2] values rounded to each format by torch, then decoded by hand from the bits")
    print(tabulate(rows, headers=["value", "format", "sign exponent mantissa", "class", "decoded", "rounding"],
                   floatfmt=".6g", disable_numparse=True))


def sample(kind: str, rows: int, n: int) -> torch.Tensor:
    """bfloat16 test data: 'uniform' in [0, 1), 'normal' (signs cancel), 'ones'."""
    g = torch.Generator().manual_seed(n)
    if kind == "uniform":
        x = torch.rand(rows, n, generator=g)
    elif kind == "normal":
        x = torch.randn(rows, n, generator=g)
    else:
        x = torch.ones(rows, n)
    return x.to(torch.bfloat16)


def show_accumulation(sizes: list[int], rows: int = 16) -> None:
    table = []
    for kind in ("uniform", "normal", "ones"):
        for n in sizes:
            x = sample(kind, rows, n)
            x64 = x.double().numpy()
            exact = np.array([math.fsum(r) for r in x64])  # the exact sum of the bf16 values, rounded once
            l1 = np.abs(x64).sum(axis=1)
            errors = [np.max(np.abs(METHODS[m](x).double().numpy() - exact) / l1) for m in METHODS]
            table.append([kind, n, *errors])
    print(f"\n[3] summing n bfloat16 values: max over {rows} rows of |sum - exact| / sum|x|  (exact: float64 fsum)")
    print(tabulate(table, headers=["data", "n", *METHODS], floatfmt=".2e"))


def show_stall() -> None:
    table = []
    for dtype, man_bits in ((torch.bfloat16, 7), (torch.float16, 10)):
        for term in (1.0, 2.0 ** -4):
            n = int(4 * stall_value(term, man_bits) / term)
            got = naive_sum(torch.full((1, n), term, dtype=dtype)).item()
            table.append([str(dtype).replace("torch.", ""), term, n, n * term, got, stall_value(term, man_bits)])
    print("\n[4] a naive running sum stalls where half an ulp of the sum reaches the term")
    print(tabulate(table, headers=["dtype", "term", "n", "exact sum", "naive sum", "term * 2^(m+1)"],
                   floatfmt=".6g"))


def show_softmax(rows: int = 8, n: int = 64) -> None:
    g = torch.Generator().manual_seed(3)
    base = torch.randn(rows, n, generator=g, dtype=torch.float64) * 2
    base = base - base.amax(dim=-1, keepdim=True)  # every row's largest logit is 0 before the shift
    table = []
    for dtype in (torch.float16, torch.bfloat16, torch.float32):
        for top in (5.0, 12.0, 100.0, -120.0):
            x = (base + top).to(dtype)
            ref = torch.softmax(x.double(), dim=-1)
            cells = []
            for fn in (naive_softmax, stable_softmax):
                p = fn(x).double()
                bad = (~torch.isfinite(p)).any(dim=-1).sum().item()
                cells += [bad, (p - ref).abs().max().item() if bad == 0 else float("nan")]
            table.append([str(dtype).replace("torch.", ""), exp_overflow_threshold(dtype), top, *cells])
    print(f"\n[5] softmax of {rows} rows x {n} logits whose largest is `max logit`; error vs float64 softmax")
    print(tabulate(table, headers=["dtype", "exp overflows above", "max logit", "naive: rows with NaN",
                                   "naive max |err|", "stable: rows with NaN", "stable max |err|"],
                   floatfmt=".3g"))


def show_mixed_precision(steps: int, lr: float) -> None:
    x, y, w0 = make_problem()
    _, g = loss_and_grad(w0, x, y)
    print(f"\n[6] SGD on a linear model, {steps} steps of lr {lr:g}: largest first update {lr * g.abs().max().item():.2g},"
          f" half a bfloat16 ulp in [1, 2) is {2 ** -8:.2g}")
    w_ref = train_reference(w0, x, y, lr, steps)
    table = []
    for name, w in (("float64 reference", w_ref), ("bfloat16 weights only", train_low_precision_only(w0, x, y, lr, steps)),
                    ("fp32 master + bf16 compute", train_master_weights(w0, x, y, lr, steps))):
        w = w.double()
        table.append([name, mse(w0, x, y), mse(w, x, y), (w - w0.double()).abs().max().item(),
                      (w - w_ref).abs().max().item()])
    print(tabulate(table, headers=["weights", "loss at start", "loss at end", "max |w - w0|", "max |w - w_ref|"],
                   floatfmt=".4g"))


def show_loss_scaling() -> None:
    x, y, w0 = make_fp16_problem()
    g64 = (2.0 / x.shape[0]) * (x.double().T @ (x.double() @ w0.double() - y.double()))
    table = []
    for scale in (1.0, 2.0 ** 8, 2.0 ** 16, 2.0 ** 32):
        r = (x * w0).sum(dim=-1) - y
        flushed = ((r * (2.0 * scale / x.shape[0])) == 0) & (r != 0)
        g = scaled_grad(w0, x, y, scale).double()
        err = ((g / scale - g64).abs().max() / g64.abs().max()).item() if torch.isfinite(g).all() else float("nan")
        table.append([f"2^{int(scale).bit_length() - 1}", flushed.float().mean().item(), torch.isfinite(g).all().item(), err])
    print("\n[7] float16 backward of a mean over 1024 samples: per-sample gradients flushed to zero, by loss scale")
    print(tabulate(table, headers=["loss scale", "flushed to 0", "gradient finite", "max rel. error vs float64"],
                   floatfmt=".3g"))
    scaler = DynamicLossScaler(init_scale=2.0 ** 32, growth_interval=4)
    _, history = train_fp16(w0, x, y, lr=0.5, steps=16, scaler=scaler, inject=frozenset({9}))
    print("\n[8] dynamic scaling from 2^32, growth every 4 good steps, an inf injected at step 9")
    print(tabulate([[i, f"2^{int(s).bit_length() - 1}", "skipped" if bad else ""] for i, (s, bad) in enumerate(history)],
                   headers=["step", "scale", ""]))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--values", type=parse_values, default=parse_values("1,-2.5,0.1,1e-6,300,1e5,-0,inf,nan"),
                    help="comma-separated numbers to round into every format and decode")
    ap.add_argument("--sizes", type=parse_sizes, default=parse_sizes("256,4096"),
                    help="how many numbers each sum adds, in table [3]")
    ap.add_argument("--steps", type=int, choices=range(1, 100001), default=1000, metavar="1..100000",
                    help="SGD steps in table [6]")
    ap.add_argument("--lr", type=float, default=2e-3, help="SGD learning rate in table [6] (0 < lr <= 0.1)")
    args = ap.parse_args(argv)
    if not 0 < args.lr <= 0.1:
        ap.error(f"--lr {args.lr} is outside (0, 0.1]; larger rates diverge on this problem")
    show_layouts()
    show_values(args.values)
    show_accumulation(args.sizes)
    show_stall()
    show_softmax()
    show_mixed_precision(args.steps, args.lr)
    show_loss_scaling()


if __name__ == "__main__":
    main()
