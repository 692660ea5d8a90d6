"""Hand decoding against PyTorch's own bit patterns (every code of the 8- and 16-bit formats), struct and torch.finfo."""
import math
import struct

import numpy as np
import pytest
import torch

from formats import BF16, E4M3, E5M2, FORMATS, FP16, FP32, bit_string, classify, decode, fields, limits

SMALL = [FP16, BF16, E4M3, E5M2]


def torch_values(fmt):
    """Every bit pattern 0 .. 2^bits-1 reinterpreted by PyTorch as the format, widened exactly to float64."""
    codes = np.arange(2 ** fmt.bits, dtype=np.uint8 if fmt.bits == 8 else np.uint16)
    if fmt.bits == 16:
        codes = codes.view(np.int16)  # torch has no uint16 view to float16/bfloat16
    return torch.from_numpy(codes).view(fmt.torch_dtype).double().tolist()


def torch_class(v, fmt):
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf"
    if v == 0:
        return "zero"
    return "subnormal" if abs(v) < torch.finfo(fmt.torch_dtype).smallest_normal else "normal"


@pytest.mark.parametrize("fmt", SMALL, ids=lambda f: f.name)
def test_every_code_decodes_to_the_value_torch_gives_it(fmt):
    for bits, ref in enumerate(torch_values(fmt)):
        mine = decode(bits, fmt)
        assert (math.isnan(mine) and math.isnan(ref)) or (mine == ref and math.copysign(1, mine) == math.copysign(1, ref)), \
            f"{fmt.name} {bit_string(bits, fmt)}: decoded {mine}, torch {ref}"


@pytest.mark.parametrize("fmt", SMALL, ids=lambda f: f.name)
def test_every_code_is_classified_like_torch(fmt):
    for bits, ref in enumerate(torch_values(fmt)):
        assert classify(bits, fmt) == torch_class(ref, fmt), f"{fmt.name} {bit_string(bits, fmt)} ({ref})"


def test_value_class_counts_per_format():
    """Exact counts that follow from the layouts: IEEE formats have 2 infs; E4M3fn has none and 2 NaNs."""
    counts = {f.name: {} for f in SMALL}
    for fmt in SMALL:
        for bits in range(2 ** fmt.bits):
            kind = classify(bits, fmt)
            counts[fmt.name][kind] = counts[fmt.name].get(kind, 0) + 1
    assert counts["float8_e4m3fn"] == {"zero": 2, "subnormal": 14, "normal": 238, "nan": 2}
    assert counts["float8_e5m2"] == {"zero": 2, "subnormal": 6, "normal": 240, "inf": 2, "nan": 6}
    assert counts["float16"]["inf"] == 2 and counts["float16"]["nan"] == 2 * (2 ** 10 - 1)
    assert counts["bfloat16"]["subnormal"] == 2 * (2 ** 7 - 1)


FP32_PATTERNS = [0x00000000, 0x80000000, 0x00000001, 0x007FFFFF, 0x00800000, 0x3F800000, 0xBFC00000,
                 0x7F7FFFFF, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFFFFFFF, 0x3DCCCCCD]


def test_float32_patterns_decode_like_struct():
    rng = np.random.default_rng(0)
    patterns = FP32_PATTERNS + [int(b) for b in rng.integers(0, 2 ** 32, size=2000, dtype=np.uint64)]
    for bits in patterns:
        ref = struct.unpack("<f", struct.pack("<I", bits))[0]
        mine = decode(bits, FP32)
        assert (math.isnan(mine) and math.isnan(ref)) or (mine == ref and math.copysign(1, mine) == math.copysign(1, ref)), \
            f"{bits:#010x}: decoded {mine}, struct {ref}"


def test_float32_value_classes():
    kinds = [classify(b, FP32) for b in FP32_PATTERNS]
    assert kinds == ["zero", "zero", "subnormal", "subnormal", "normal", "normal", "normal",
                     "normal", "inf", "inf", "nan", "nan", "normal"]


@pytest.mark.parametrize("fmt", FORMATS.values(), ids=lambda f: f.name)
def test_limits_match_torch_finfo(fmt):
    info, lim = torch.finfo(fmt.torch_dtype), limits(fmt)
    assert fmt.bits == info.bits
    assert lim["max"] == info.max and -lim["max"] == info.min
    assert lim["smallest_normal"] == info.smallest_normal == info.tiny
    assert lim["eps"] == info.eps
    as_int = {8: torch.uint8, 16: torch.int16, 32: torch.int32}[fmt.bits]
    smallest = torch.tensor([1], dtype=as_int).view(fmt.torch_dtype)  # the pattern 0...01, read by torch
    assert lim["smallest_subnormal"] == smallest.double().item()


def test_fields_and_bit_strings():
    assert fields(0x3C00, FP16) == (0, 15, 0)  # 1.0 = 2^(15-15) * 1.0
    assert bit_string(0x3C00, FP16) == "0 01111 0000000000"
    assert bit_string(0x7E, E4M3) == "0 1111 110" and decode(0x7E, E4M3) == 448.0
    assert decode(0x7B, E5M2) == 57344.0 and classify(0x7C, E5M2) == "inf"
    with pytest.raises(ValueError):
        fields(256, E4M3)


def test_worked_answers():
    assert decode(0x7E, E4M3) == 1.75 * 2 ** 8 == 448.0  # exponent 1111 is finite in E4M3fn
    assert decode(0x77, E4M3) == 1.875 * 2 ** 7 == 240.0  # the max if 1111 were reserved, IEEE style
    assert limits(BF16)["smallest_subnormal"] == 2.0 ** -133
    from formats import torch_bits
    assert torch_bits(0.1, BF16) == 0b0_01111011_1001101 and decode(0x3DCD, BF16) == 0.10009765625
