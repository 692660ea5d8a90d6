"""Intensity of matmul shapes against hand-derived closed forms; row-wise ops against real tensors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlc_shared.testing import assert_close
from intensity import add_op, matmul_op, rmsnorm_op, softmax_op, standard_ops

rng = np.random.default_rng(7)
ROW_SHAPES = [tuple(int(x) for x in rng.integers(2, 300, size=2)) for _ in range(6)]


# The closed forms below are the same rational numbers as FLOPs / bytes; each side is one correctly rounded
# division of exact integers, so they are equal bit for bit.
@pytest.mark.parametrize("n", [1, 8, 100, 4096])
def test_square_matmul_fp32_intensity_is_n_over_6(n):
    # 2n^3 FLOPs / (4 bytes * 3n^2) = n / 6
    assert matmul_op("sq", n, n, n).intensity == n / 6


@pytest.mark.parametrize("n", [1, 8, 100, 4096])
def test_gemv_fp32_intensity_stays_below_half(n):
    # (1 x n) @ (n x n): 2n^2 / (4 (n^2 + 2n)) = n / (2(n + 2)) -> 1/2
    op = matmul_op("gemv", 1, n, n)
    assert op.intensity == n / (2 * (n + 2))
    assert op.intensity < 0.5


@pytest.mark.parametrize("m", [1, 16, 64])
def test_skinny_matmul_intensity_grows_with_the_token_count(m):
    # (m x k) @ (k x n) with k = n = 4096: 2mn^2 / (4 (2mn + n^2)) = m n / (2 (2m + n))
    n = 4096
    assert matmul_op("skinny", m, n, n).intensity == m * n / (2 * (2 * m + n))


def real_tensors(op, dtype):
    """The tensors the op reads and writes, as real PyTorch tensors of dtype (small shapes only)."""
    if op.kind == "matmul":
        m, n, k = op.shape
        a, b = torch.ones(m, k, dtype=dtype), torch.ones(k, n, dtype=dtype)
        return [a, b, a @ b]
    rows, cols = op.shape
    x, y, w = (torch.ones(rows, cols, dtype=dtype), torch.ones(rows, cols, dtype=dtype), torch.ones(cols, dtype=dtype))
    return {"add": [x, y, x + y], "softmax": [x, torch.softmax(x, -1)],
            "rmsnorm": [x, w, F.rms_norm(x, (cols,), w)]}[op.kind]


@pytest.mark.parametrize("itemsize,dtype", [(4, torch.float32), (2, torch.bfloat16), (1, torch.float8_e4m3fn)])
def test_every_op_moves_the_bytes_of_its_tensors_in_each_dtype(itemsize, dtype):
    for op in standard_ops(rows=24, cols=40, gemm=16, tokens=3, itemsize=itemsize):
        tensors = real_tensors(op, torch.float32 if dtype == torch.float8_e4m3fn else dtype)
        if dtype == torch.float8_e4m3fn:  # no fp8 arithmetic on a CPU: the same shapes stored in fp8
            tensors = [t.to(dtype) for t in tensors]
        assert op.bytes == sum(t.nbytes for t in tensors), op.name


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
    # float64 both; a row sum of `cols` terms, then exp and divide: depth 3
    assert_close(y, torch.softmax(torch.from_numpy(x), -1), np.float64, terms=cols, depth=3)
    # the formula rounds the two reductions up to one FLOP per element
    assert softmax_op("s", rows, cols).flops == pytest.approx(t.flops, rel=2 / cols)


@pytest.mark.parametrize("rows,cols", ROW_SHAPES)
def test_rmsnorm_flops_match_a_primitive_by_primitive_count(rows, cols):
    x, w, t = rng.standard_normal((rows, cols)), rng.standard_normal(cols), Tally()
    ss = t(t(x * x).sum(axis=1, keepdims=True), rows * (cols - 1))
    inv = t(1 / t(np.sqrt(t(t(ss / cols) + 1e-6))))  # per row: mean, +eps, sqrt, reciprocal
    y = t(t(x * inv) * w)
    ref = F.rms_norm(torch.from_numpy(x), (cols,), torch.from_numpy(w), eps=1e-6).numpy()
    # float64 both; a row sum of `cols` squares, then mean, sqrt, reciprocal and two scalings
    assert_close(y, ref, np.float64, terms=cols, depth=4)
    assert rmsnorm_op("r", rows, cols).flops == pytest.approx(t.flops, rel=4 / cols)


def test_standard_ops_are_ordered_from_memory_hungry_to_compute_hungry():
    ai = {op.name.split(" (")[0]: op.intensity for op in standard_ops()}
    assert ai["add x+y"] < ai["GEMV"] < ai["skinny GEMM"] < ai["square GEMM"]
    assert max(ai["softmax"], ai["rmsnorm"], ai["GEMV"]) < 1 < ai["skinny GEMM"]
