"""The ceiling probes: correct results, and rates that make physical sense (never a speed target)."""
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from ceilings import MEASURED_ELSEWHERE, gemm_peak, measure_ceilings, stream_copy, stream_triad, time_calls, triad
from dlc_shared.testing import assert_close, gpu

CPU = torch.device("cpu")
CORES = os.cpu_count() or 1
# Generous physical bounds for a CPU: 5 GHz, two AVX-512 FMA units (2 x 16 fp32 lanes x 2 FLOPs = 64
# FLOP/cycle) doubled for slack; and 256 bytes/cycle/core, more than even L1 delivers.
CPU_MAX_FLOPS = CORES * 5e9 * 128
CPU_MAX_BYTES = CORES * 5e9 * 256


def test_triad_computes_b_plus_scalar_times_c():
    rng = np.random.default_rng(3)
    b, c = rng.standard_normal(1000), rng.standard_normal(1000)
    a = torch.empty(1000)
    triad(a, torch.from_numpy(b).float(), torch.from_numpy(c).float(), 3.0)
    # float32 inputs (rounded from b, c: one rounding), then a multiply and an add: depth 3 against float64
    assert_close(a, b + 3.0 * c, torch.float32, depth=3, scale=float(np.abs(b).max() + 3 * np.abs(c).max()))


def test_time_calls_returns_one_positive_sample_per_call():
    calls = []
    samples = time_calls(lambda: calls.append(1), CPU, warmup=2, repeat=4)
    assert len(samples) == 4 and len(calls) == 6 and all(s > 0 for s in samples)


def test_probes_count_the_work_stream_counts():
    n = 1 << 16
    assert stream_copy(n, CPU, repeat=1).work == 2 * 4 * n
    assert stream_triad(n, CPU, repeat=1).work == 3 * 4 * n
    assert gemm_peak(64, CPU, repeat=1).work == 2 * 64**3


def test_cpu_bandwidth_is_positive_and_physically_possible():
    for probe in (stream_copy(1 << 22, CPU, repeat=3), stream_triad(1 << 22, CPU, repeat=3)):
        assert 0 < probe.median <= probe.best < CPU_MAX_BYTES, probe


def test_cpu_gemm_rate_is_positive_and_below_what_the_cores_can_issue():
    probe = gemm_peak(256, CPU, torch.float32, repeat=3)
    assert 0 < probe.median <= probe.best < CPU_MAX_FLOPS


def test_the_h100_figures_are_the_recorded_measurement():
    record = json.loads((Path(__file__).resolve().parent.parent / "results" / "h100-anchor.json").read_text())
    values = record["values"]
    assert record["hardware"]["gpu"].startswith("NVIDIA H100") and record["method"]
    recorded = [values["bf16_gemm_8192_TFLOP_per_s"] * 1e12, values["device_copy_1GiB_fp32_TB_per_s"] * 1e12]
    assert_close(MEASURED_ELSEWHERE["H100 SXM (measured, bf16)"], recorded, "float64")  # TB/s -> B/s: one rounding


def test_measure_ceilings_returns_the_best_probe_of_each_kind():
    probes, peak, bandwidth = measure_ceilings(CPU, stream_mib=4, gemm_n=128, repeat=2)
    assert peak == probes[-1].best and bandwidth == max(probes[0].best, probes[1].best)


@gpu
def test_cuda_triad_matches_the_cpu():
    b, c = torch.randn(1 << 20), torch.randn(1 << 20)
    a = triad(torch.empty(1 << 20, device="cuda"), b.cuda(), c.cuda(), 3.0)
    # the same float32 inputs; a fused multiply-add or a multiply then an add: at most two roundings apart
    assert_close(a, b.double() + 3.0 * c.double(), torch.float32, depth=2,
                 scale=float(b.abs().max() + 3 * c.abs().max()))


@gpu
def test_cuda_probes_are_physically_sensible():
    cuda = torch.device("cuda")
    # HBM3e peaks below 5 TB/s today; 10 TB/s and 3 PFLOP/s dense bf16 are beyond any single GPU
    copy = stream_copy(1 << 26, cuda, repeat=5)
    gemm = gemm_peak(4096, cuda, torch.bfloat16, repeat=5)
    assert 50e9 < copy.best < 10e12
    assert 1e12 < gemm.best < 3e15
