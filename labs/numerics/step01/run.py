"""Bit layouts of FP32, FP16, BF16 and the two FP8 formats, decoded by hand and checked with torch.finfo."""
from __future__ import annotations

import argparse
import math

import torch
from tabulate import tabulate

from formats import FORMATS, bit_string, classify, decode, limits, torch_bits


def parse_values(text: str) -> list[float]:
    """'1,-2.5,inf,nan' -> [1.0, -2.5, inf, nan]."""
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of numbers") from None


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


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--values", type=parse_values, default=parse_values("1,-2.5,0.1,1e-6,300,1e5,-0,inf,nan"),
                    help="comma-separated numbers to round into every format and decode")
    args = ap.parse_args(argv)
    show_layouts()
    show_values(args.values)


if __name__ == "__main__":
    main()
