"""Floating-point formats decoded by hand: sign, exponent and mantissa bits -> value.

A binary float stores a sign bit s, an exponent field E and a mantissa (fraction) field M.
Normal numbers are (-1)^s * 2^(E - bias) * (1 + M / 2^m); an all-zero exponent field holds
±0 and the subnormals (-1)^s * 2^(1 - bias) * (M / 2^m). An all-ones exponent field is inf
(M = 0) or NaN in the IEEE formats; FP8 E4M3 "fn" (finite) has no inf and keeps only
M = 111 there as NaN, which buys one more binade of finite values (max 448 instead of 240).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Format:
    name: str
    exp_bits: int
    man_bits: int
    ieee_specials: bool = True  # False for E4M3fn: no inf, NaN only at exponent and mantissa all ones

    @property
    def bits(self) -> int:
        return 1 + self.exp_bits + self.man_bits

    @property
    def bias(self) -> int:
        return 2 ** (self.exp_bits - 1) - 1

    @property
    def torch_dtype(self) -> torch.dtype:
        return getattr(torch, self.name)


FP32 = Format("float32", 8, 23)
FP16 = Format("float16", 5, 10)
BF16 = Format("bfloat16", 8, 7)
E4M3 = Format("float8_e4m3fn", 4, 3, ieee_specials=False)
E5M2 = Format("float8_e5m2", 5, 2)
FORMATS = {f.name: f for f in (FP32, FP16, BF16, E4M3, E5M2)}


def fields(bits: int, fmt: Format) -> tuple[int, int, int]:
    """(sign, exponent field, mantissa field) of a bit pattern given as an unsigned integer."""
    if not 0 <= bits < 2 ** fmt.bits:
        raise ValueError(f"{bits:#x} is not a {fmt.bits}-bit pattern")
    mantissa = bits & (2 ** fmt.man_bits - 1)
    exponent = (bits >> fmt.man_bits) & (2 ** fmt.exp_bits - 1)
    return bits >> (fmt.bits - 1), exponent, mantissa


def classify(bits: int, fmt: Format) -> str:
    """'zero', 'subnormal', 'normal', 'inf' or 'nan'."""
    _, exponent, mantissa = fields(bits, fmt)
    all_ones = 2 ** fmt.exp_bits - 1
    if exponent == 0:
        return "zero" if mantissa == 0 else "subnormal"
    if exponent == all_ones:
        if fmt.ieee_specials:
            return "inf" if mantissa == 0 else "nan"
        if mantissa == 2 ** fmt.man_bits - 1:
            return "nan"
    return "normal"


def decode(bits: int, fmt: Format) -> float:
    """The value a bit pattern stands for, from the three fields alone (no library float decoding)."""
    sign, exponent, mantissa = fields(bits, fmt)
    kind = classify(bits, fmt)
    if kind == "nan":
        return math.nan
    if kind == "inf":
        return -math.inf if sign else math.inf
    if kind in ("zero", "subnormal"):
        magnitude = math.ldexp(mantissa, 1 - fmt.bias - fmt.man_bits)  # 0.M * 2^(1 - bias)
    else:
        magnitude = math.ldexp(2 ** fmt.man_bits + mantissa, exponent - fmt.bias - fmt.man_bits)  # 1.M * 2^(E - bias)
    return -magnitude if sign else magnitude


def limits(fmt: Format) -> dict[str, float]:
    """Range and precision that follow from the layout: what torch.finfo reports."""
    top = 2 ** fmt.exp_bits - 1  # the exponent field of inf/NaN
    if fmt.ieee_specials:  # the largest finite number: exponent top-1, mantissa all ones
        largest = math.ldexp(2 - 2.0 ** -fmt.man_bits, top - 1 - fmt.bias)
    else:  # E4M3fn: exponent all ones is finite except mantissa all ones (NaN)
        largest = math.ldexp(2 - 2.0 ** (1 - fmt.man_bits), top - fmt.bias)
    return {
        "max": largest,
        "smallest_normal": math.ldexp(1.0, 1 - fmt.bias),
        "smallest_subnormal": math.ldexp(1.0, 1 - fmt.bias - fmt.man_bits),
        "eps": math.ldexp(1.0, -fmt.man_bits),  # the gap between 1 and the next number
    }


def bit_string(bits: int, fmt: Format) -> str:
    """'0 01111 0000000000': sign, exponent and mantissa fields as binary digits."""
    sign, exponent, mantissa = fields(bits, fmt)
    return f"{sign} {exponent:0{fmt.exp_bits}b} {mantissa:0{fmt.man_bits}b}"


def torch_bits(value: float, fmt: Format) -> int:
    """The bit pattern PyTorch stores when it rounds `value` to the format (round to nearest even)."""
    x = torch.tensor([value], dtype=torch.float64).to(fmt.torch_dtype)
    as_int = {8: torch.uint8, 16: torch.int16, 32: torch.int32}[fmt.bits]
    return int(x.view(as_int).item()) & (2 ** fmt.bits - 1)
