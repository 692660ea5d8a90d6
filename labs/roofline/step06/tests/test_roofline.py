"""The roofline formula, which side of the ridge known ops fall on, the timed ops' results, and the plot."""
import numpy as np
import pytest
import torch

import roofline
from ceilings import DATASHEET, measure_ceilings
from dlc_shared.testing import assert_close, gpu, tolerance
from intensity import standard_ops
from roofline import OP_FUNCTIONS, attainable, bound, measure_op, op_inputs, output_shape, plot_roofline, ridge_point

rng = np.random.default_rng(5)
CPU = torch.device("cpu")


@pytest.mark.parametrize("peak,bandwidth", [(989e12, 3.35e12), (989e12, 4.8e12), (5e10, 8e9), (1.0, 1.0)])
def test_attainable_is_the_slanted_roof_left_of_the_ridge_and_flat_right_of_it(peak, bandwidth):
    ridge = ridge_point(peak, bandwidth)
    left = ridge * rng.uniform(0.001, 0.999, size=20)
    right = ridge * rng.uniform(1.001, 1000, size=20)
    assert np.array_equal(attainable(left, peak, bandwidth), bandwidth * left)  # the same product: exact
    assert np.array_equal(attainable(right, peak, bandwidth), np.full(20, peak))
    # the roofs meet here: bandwidth * (peak / bandwidth) is peak up to two float64 roundings
    assert_close(attainable(ridge, peak, bandwidth), peak, np.float64, depth=2)


def test_h100_and_h200_ridge_points():
    # 989 TFLOP/s / 3.35 TB/s and / 4.8 TB/s, divided by hand and rounded to 0.1 (hence abs=0.1, not rounding error)
    assert ridge_point(*DATASHEET["H100 SXM (datasheet, bf16)"]) == pytest.approx(295.2, abs=0.1)
    assert ridge_point(*DATASHEET["H200 (datasheet, bf16)"]) == pytest.approx(206.0, abs=0.1)


@pytest.mark.parametrize("machine", list(DATASHEET))
def test_known_ops_land_on_the_right_side_of_a_gpu_ridge(machine):
    ops = {op.name.split(" (")[0]: op for op in standard_ops(itemsize=2)}  # bf16, like the datasheet peak
    peak, bandwidth = DATASHEET[machine]
    for name in ("add x+y", "softmax", "rmsnorm", "GEMV", "skinny GEMM"):
        assert bound(ops[name], peak, bandwidth) == "memory", name
    assert bound(ops["square GEMM"], peak, bandwidth) == "compute"


def test_known_ops_land_on_the_right_side_of_this_machines_measured_ridge():
    _, peak, bandwidth = measure_ceilings(CPU, stream_mib=64, gemm_n=512, repeat=3)
    ops = {op.name.split(" (")[0]: op for op in standard_ops()}
    # far from any CPU's ridge on either side, even with the arrays partly in cache: 0.08 vs 341 FLOP/byte
    assert bound(ops["add x+y"], peak, bandwidth) == "memory"
    assert bound(ops["square GEMM"], peak, bandwidth) == "compute"


# (terms, depth) of each op for the tolerance rule: the longest reduction feeding one output
# (a row for softmax and RMSNorm, k for a matmul) and the rounding stages chained after it.
def terms_depth(op):
    if op.kind == "matmul":
        return op.shape[2], 1
    return {"add": (1, 1), "softmax": (op.shape[1], 3), "rmsnorm": (op.shape[1], 4)}[op.kind]


def reference(kind, inputs):
    """float64 NumPy versions of the four ops."""
    x = [t.double().numpy() for t in inputs]
    if kind == "add":
        return x[0] + x[1]
    if kind == "matmul":
        return x[0] @ x[1]
    if kind == "softmax":
        e = np.exp(x[0] - x[0].max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    return x[0] / np.sqrt((x[0] ** 2).mean(axis=-1, keepdims=True) + torch.finfo(torch.float32).eps) * x[1]


@pytest.mark.parametrize("op", standard_ops(rows=24, cols=40, gemm=16, tokens=3),
                         ids=lambda op: op.kind + str(op.shape))
def test_the_timed_function_computes_the_op_that_was_counted(op):
    inputs = op_inputs(op, CPU, torch.float32, random=True)
    out = torch.empty(output_shape(op))
    result = OP_FUNCTIONS[op.kind](*inputs, out)
    assert result.shape == output_shape(op)
    # the op reads exactly the tensors its byte count assumes
    assert op.bytes == sum(t.nbytes for t in inputs) + result.nbytes
    terms, depth = terms_depth(op)
    assert_close(result, reference(op.kind, inputs), torch.float32, terms=terms, depth=depth)


def test_measure_op_times_the_counted_op_and_divides_its_flops_by_the_median(monkeypatch):
    timed = []

    def fake_time_calls(fn, device, warmup, repeat):  # run the timed call once; pretend it took 4, 1, 2 s
        timed.append(fn())
        return [4.0, 1.0, 2.0]

    monkeypatch.setattr(roofline, "time_calls", fake_time_calls)
    for op in standard_ops(rows=24, cols=40, gemm=16, tokens=3):
        probe = measure_op(op, CPU, torch.float32, repeat=3)
        assert probe.median == op.flops / 2.0  # the op's counted FLOPs over the median second
        terms, depth = terms_depth(op)  # and what was timed is that op, on the inputs timing uses
        assert_close(timed[-1], reference(op.kind, op_inputs(op, CPU, torch.float32)), torch.float32,
                     terms=terms, depth=depth)


def test_plot_writes_a_png(tmp_path):
    roofs = [("a", 1e11, 1e10), ("b", 989e12, 3.35e12)]
    path = plot_roofline(tmp_path / "sub" / "r.png", roofs, [("op", 0.5, 1e9), ("gemm", 300, 5e10)], "test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000


@gpu
def test_cuda_ops_match_the_cpu_in_bf16_and_stay_under_a_physical_bound():
    cuda = torch.device("cuda")
    for op in standard_ops(rows=1024, cols=1024, gemm=2048, tokens=16, itemsize=2):
        inputs = [t.bfloat16() for t in op_inputs(op, CPU, torch.float32, random=True)]
        expected = OP_FUNCTIONS[op.kind](*[t.float() for t in inputs], torch.empty(output_shape(op)))
        out = torch.empty(output_shape(op), device=cuda, dtype=torch.bfloat16)
        got = OP_FUNCTIONS[op.kind](*[t.to(cuda) for t in inputs], out).float().cpu()
        # the same bf16 inputs on both sides, both accumulate in fp32 (terms, depth as on the CPU); the GPU's
        # output is rounded once more, to bf16: one bf16 rounding of the largest value, plus the fp32 part
        terms, depth = terms_depth(op)
        scale = float(expected.abs().max())
        assert (got - expected).abs().max() <= tolerance(torch.bfloat16, scale) + tolerance(torch.float32, scale,
                                                                                               terms, depth)
        assert 0 < measure_op(op, cuda, torch.bfloat16).median < 3e15, op.name  # no GPU reaches 3 PFLOP/s bf16
