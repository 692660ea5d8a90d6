"""The numbers the README's 풀이 quote, computed with this step's code."""
import json
from fractions import Fraction
from pathlib import Path

import torch

from ceilings import MEASURED_ELSEWHERE, stream_triad
from intensity import matmul_op, softmax_op, standard_ops
from matmul import matmul_bytes_ideal, matmul_bytes_naive, matmul_flops


def test_answer_4096_cubed_flops():
    flops = matmul_flops(4096, 4096, 4096)
    assert flops == 2**37 == 137_438_953_472
    assert f"{flops / 989e12 * 1e3:.3f}" == "0.139"  # ms at the H100 datasheet's 989 TFLOP/s, as quoted


def test_answer_gemv_has_n_times_fewer_flops():
    assert matmul_flops(64, 64, 64) == 524_288
    assert matmul_flops(64, 1, 64) == 8_192
    assert matmul_flops(64, 64, 64) == 64 * matmul_flops(64, 1, 64)


def test_answer_bf16_halves_the_bytes():
    assert matmul_bytes_ideal(64, 64, 64, itemsize=4) == 49_152
    assert matmul_bytes_ideal(64, 64, 64, itemsize=2) == 24_576
    for m, n, k in [(64, 64, 64), (64, 1, 64), (7, 5, 3)]:
        assert 2 * matmul_bytes_ideal(m, n, k, 2) == matmul_bytes_ideal(m, n, k, 4)
        assert 2 * matmul_bytes_naive(m, n, k, 2) == matmul_bytes_naive(m, n, k, 4)


def test_answer_4096_cubed_ideal_bytes():
    ideal = matmul_bytes_ideal(4096, 4096, 4096)
    assert ideal == 201_326_592 == 192 * 2**20
    assert f"{ideal / 3.35e12 * 1e6:.1f}" == "60.1"                         # µs at the datasheet's 3.35 TB/s
    assert f"{matmul_flops(4096, 4096, 4096) / 989e12 * 1e6:.0f}" == "139"  # µs at 989 TFLOP/s
    naive = matmul_bytes_naive(4096, 4096, 4096)
    assert f"{naive / 1e9:.0f}" == "550" and f"{naive / 3.35e12:.2f}" == "0.16"  # GB, and seconds to move them


def test_answer_intensity_scales_as_one_over_itemsize():
    for s, ratio in [(2, 2), (1, 4)]:
        for fp32, low in zip(standard_ops(itemsize=4), standard_ops(itemsize=s)):
            assert low.flops == fp32.flops and low.bytes * ratio == fp32.bytes
            assert Fraction(low.flops, low.bytes) == ratio * Fraction(fp32.flops, fp32.bytes)
    assert [round(standard_ops(itemsize=s)[1].intensity, 3) for s in (4, 2, 1)] == [0.625, 1.25, 2.5]
    assert [round(standard_ops(itemsize=s)[-1].intensity) for s in (4, 2, 1)] == [341, 683, 1365]


def test_answer_tokens_to_reach_the_h100_ridge():
    ridge = 989e12 / 3.35e12  # the datasheet figures
    assert f"{ridge:.2f}" == "295.22"
    assert matmul_op("m=344", 344, 4096, 4096, itemsize=2).intensity < ridge
    assert matmul_op("m=345", 345, 4096, 4096, itemsize=2).intensity >= ridge
    assert [round(matmul_op("", m, 4096, 4096, 2).intensity, 1) for m in (344, 345)] == [294.5, 295.3]


def test_answer_softmax_intensity():
    op = softmax_op("softmax", 8192, 4096)
    assert op.flops == 5 * 8192 * 4096 and op.bytes == 8 * 8192 * 4096
    assert Fraction(op.flops, op.bytes) == Fraction(5, 8)


def test_answer_triad_intensity():
    n = 1000
    probe = stream_triad(n, torch.device("cpu"), repeat=1)
    assert probe.work == 12 * n
    assert Fraction(2 * n, int(probe.work)) == Fraction(1, 6)


def test_answer_cache_bandwidth_over_dram():
    record = json.loads((Path(__file__).parent.parent / "results" / "ceilings-cpu.json").read_text())
    best = {(r["probe"].split()[0], r["size"].split()[0]): r["best"] for r in record["results"]}
    assert f"{best['copy', '1'] / best['copy', '256']:.1f}" == "5.3"
    assert f"{best['triad', '1'] / best['triad', '256']:.1f}" == "4.3"
    gemm = best["GEMM", "n=2048"]
    assert f"{gemm / max(best['copy', '256'], best['triad', '256']):.1f}" == "6.0"  # ridge with DRAM bandwidth
    assert f"{gemm / max(best['copy', '1'], best['triad', '1']):.1f}" == "1.2"      # ridge with the L2 figure


def test_answer_8192_gemm_time_on_h100():
    peak, _ = MEASURED_ELSEWHERE["H100 SXM (measured, bf16)"]
    assert f"{2 * 8192**3 / peak * 1e3:.2f}" == "1.39"  # ms
