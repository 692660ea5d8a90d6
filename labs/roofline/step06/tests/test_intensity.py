"""Intensity of matmul shapes against hand-derived closed forms; row-wise ops against real tensors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from intensity import add_op, matmul_op, rmsnorm_op, softmax_op, standard_ops

rng = np.random.default_rng(7)
ROW_SHAPES = [tuple(int(x) for x in rng.integers(2, 300, size=2)) for _ in range(6)]


@pytest.mark.parametrize("n", [1, 8, 100, 4096])
def test_square_matmul_fp32_intensity_is_n_over_6(n):
    # 2n^3 FLOPs / (4 bytes * 3n^2) = n / 6
    assert matmul_op("sq", n, n, n).intensity == pytest.approx(n / 6)


@pytest.mark.parametrize("n", [1, 8, 100, 4096])
def test_gemv_fp32_intensity_stays_below_half(n):
    # (1 x n) @ (n x n): 2n^2 / (4 (n^2 + 2n)) = n / (2(n + 2)) -> 1/2
    op = matmul_op("gemv", 1, n, n)
    assert op.intensity == pytest.approx(n / (2 * (n + 2)))
    assert op.intensity < 0.5


@pytest.mark.parametrize("m", [1, 16, 64])
def test_skinny_matmul_intensity_grows_with_the_token_count(m):
    # (m x k) @ (k x n) with k = n = 4096: 2mn^2 / (4 (2mn + n^2)) = m n / (2 (2m + n))
    n = 4096
    assert matmul_op("skinny", m, n, n).intensity == pytest.approx(m * n / (2 * (2 * m + n)))


def test_halving_the_itemsize_doubles_every_intensity():
    for op4, op2 in zip(standard_ops(itemsize=4), standard_ops(itemsize=2)):
        assert op2.intensity == pytest.approx(2 * op4.intensity), op4.name


def test_add_intensity_is_one_twelfth_in_fp32():
    assert add_op("add", 10, 20).intensity == pytest.approx(1 / 12)


@pytest.mark.parametrize("rows,cols", ROW_SHAPES)
def test_row_op_bytes_are_the_sizes_of_their_tensors(rows, cols):
    x, y, w = torch.randn(rows, cols), torch.randn(rows, cols), torch.randn(cols)
    assert add_op("a", rows, cols).bytes == x.nbytes + y.nbytes + (x + y).nbytes
    assert softmax_op("s", rows, cols).bytes == x.nbytes + torch.softmax(x, -1).nbytes
    assert rmsnorm_op("r", rows, cols).bytes == x.nbytes + w.nbytes + F.rms_norm(x, (cols,), w).nbytes


class Tally:
    """Counts element-wise arithmetic as a NumPy program executes it, one op at a time."""
    def __init__(self):
        self.flops = 0

    def __call__(self, result, count=None):
        self.flops += result.size if count is None else count
        return result


@pytest.mark.parametrize("rows,cols", ROW_SHAPES)
def test_softmax_flops_match_a_primitive_by_primitive_count(rows, cols):
    x, t = rng.standard_normal((rows, cols)), Tally()
    mx = t(x.max(axis=1, keepdims=True), rows * (cols - 1))  # cols-1 comparisons a row
    e = t(np.exp(t(x - mx)))
    s = t(e.sum(axis=1, keepdims=True), rows * (cols - 1))
    y = t(e / s)
    np.testing.assert_allclose(y, torch.softmax(torch.from_numpy(x), -1).numpy(), rtol=1e-12)
    # the formula rounds the two reductions up to one FLOP per element
    assert softmax_op("s", rows, cols).flops == pytest.approx(t.flops, rel=2 / cols)


@pytest.mark.parametrize("rows,cols", ROW_SHAPES)
def test_rmsnorm_flops_match_a_primitive_by_primitive_count(rows, cols):
    x, w, t = rng.standard_normal((rows, cols)), rng.standard_normal(cols), Tally()
    ss = t(t(x * x).sum(axis=1, keepdims=True), rows * (cols - 1))
    inv = t(1 / t(np.sqrt(t(t(ss / cols) + 1e-6))))  # per row: mean, +eps, sqrt, reciprocal
    y = t(t(x * inv) * w)
    ref = F.rms_norm(torch.from_numpy(x), (cols,), torch.from_numpy(w), eps=1e-6).numpy()
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)
    assert rmsnorm_op("r", rows, cols).flops == pytest.approx(t.flops, rel=4 / cols)


def test_standard_ops_are_ordered_from_memory_hungry_to_compute_hungry():
    ai = {op.name.split(" (")[0]: op.intensity for op in standard_ops()}
    assert ai["add x+y"] < ai["GEMV"] < ai["skinny GEMM"] < ai["square GEMM"]
    assert max(ai["softmax"], ai["rmsnorm"], ai["GEMV"]) < 1 < ai["skinny GEMM"]
