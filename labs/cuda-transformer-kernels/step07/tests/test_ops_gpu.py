"""The kernels on a GPU against PyTorch, on fresh random inputs and outputs poisoned with NaN."""
import pytest
import torch

from dlc_shared.testing import assert_close, gpu, tolerance


@pytest.fixture(autouse=True)
def poisoned_outputs():
    """Every output the wrappers allocate (torch::empty) starts as NaN, so an element no thread writes fails.

    With deterministic algorithms on, PyTorch fills uninitialized memory from empty/empty_like with NaN
    (torch.utils.deterministic.fill_uninitialized_memory); warn_only keeps cuBLAS in the references usable.
    """
    if not torch.cuda.is_available():
        yield
        return
    before = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        assert torch.utils.deterministic.fill_uninitialized_memory
        assert torch.empty(257, device="cuda").isnan().all()  # the poison is really there
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])


@gpu
@pytest.mark.parametrize("n", [1, 255, 257, 1_000_003])
def test_add(n):
    from ext import ops
    a, b = torch.randn(n, device="cuda"), torch.randn(n, device="cuda")
    assert torch.equal(ops().add(a, b), a + b)  # one rounding per element, the same as torch's


@gpu
def test_the_module_is_built_once():
    from ext import load_kwargs, ops
    assert ops() is ops() and ops().__name__ == load_kwargs()["name"]


@gpu
def test_wrong_input_raises_a_python_error():
    from ext import ops
    a = torch.randn(4, device="cuda")
    with pytest.raises(RuntimeError, match="float32 CUDA tensor"):
        ops().add(a.double(), a.double())
    with pytest.raises(RuntimeError, match="differ in shape"):
        ops().add(a, torch.randn(5, device="cuda"))


@gpu
@pytest.mark.parametrize("version", range(3))
@pytest.mark.parametrize("shape", [(1, 1), (8, 32), (33, 70), (1000, 517)])
def test_transpose(version, shape):
    from ext import ops
    a = torch.randn(shape, device="cuda")
    assert torch.equal(ops().transpose(a, version), a.t())


def assert_matmul_close(C, A, B):
    """FP32 sums of K products against float64, per element: terms K, scale that element's |A| @ |B|."""
    ref = A.double() @ B.double()
    bound = tolerance(torch.float32, 1.0, terms=A.shape[1]) * (A.double().abs() @ B.double().abs())
    assert not torch.isnan(C).any() and torch.all((C.double() - ref).abs() <= bound)


@gpu
@pytest.mark.parametrize("version", range(2))
@pytest.mark.parametrize("M,N,K", [(1, 1, 1), (64, 64, 64), (33, 70, 45), (256, 130, 513)])
def test_matmul(version, M, N, K):
    from ext import ops
    A, B = torch.randn(M, K, device="cuda"), torch.randn(K, N, device="cuda")
    assert_matmul_close(ops().matmul(A, B, version), A, B)


@gpu
def test_tiled_and_naive_agree_bit_for_bit():
    from ext import ops
    A, B = torch.randn(100, 77, device="cuda"), torch.randn(77, 90, device="cuda")
    # the same FMAs in the same order k = 0..K-1; the edge tiles add exact zeros
    assert torch.equal(ops().matmul(A, B, 0), ops().matmul(A, B, 1))


@gpu
@pytest.mark.parametrize("version", range(2))
@pytest.mark.parametrize("M,K", [(1, 1), (8, 31), (5, 33), (1000, 4096), (4097, 70)])
def test_gemv(version, M, K):
    from ext import ops
    W, x = torch.randn(M, K, device="cuda"), torch.randn(K, device="cuda")
    y = ops().gemv(W, x, version)
    assert_matmul_close(y[:, None], W, x[:, None])


@gpu
@pytest.mark.parametrize("rows,cols", [(1, 1), (3, 31), (4, 256), (7, 1000), (64, 4099)])
def test_softmax(rows, cols):
    from ext import ops
    x = torch.randn(rows, cols, device="cuda") * 4
    y = ops().softmax(x)
    expected = torch.softmax(x.double(), dim=-1)
    assert not torch.isnan(y).any()
    assert_close(y.cpu(), expected.cpu(), torch.float32, terms=cols, depth=3)


@gpu
@pytest.mark.parametrize("rows,cols", [(1, 1), (3, 31), (4, 256), (7, 1000), (64, 4099)])
def test_softmax_backward(rows, cols):
    from ext import ops
    x, dy = torch.randn(rows, cols, device="cuda") * 4, torch.randn(rows, cols, device="cuda")
    y = ops().softmax(x)
    dx = ops().softmax_backward(dy, y)
    x64 = x.double().requires_grad_()
    torch.softmax(x64, dim=-1).backward(dy.double())
    # y carries the forward's roundings, the row sum sqrt(cols); every term is at most max|y| * 2 max|dy|
    scale = float(y.abs().max() * 2 * dy.abs().max())
    assert_close(dx.cpu(), x64.grad.cpu(), torch.float32, terms=cols, depth=6, scale=scale)


@gpu
def test_backward_of_no_rows():
    from ext import ops
    from rmsnorm import RMS_EPS
    x, w = torch.empty(0, 5, device="cuda"), torch.randn(5, device="cuda")
    assert ops().softmax_backward(x, x).shape == (0, 5)
    dx, dw = ops().rmsnorm_backward(x, x, w, ops().rmsnorm_forward(x, w, RMS_EPS)[1])
    assert dx.shape == (0, 5) and torch.equal(dw, torch.zeros_like(w))  # a sum over no rows


@gpu
def test_softmax_of_large_logits_is_finite():
    from ext import ops
    x = torch.tensor([[100.0, 99.0, 0.0], [1000.0, 1000.0, -1000.0]], device="cuda")
    assert_close(ops().softmax(x).cpu(), torch.softmax(x.double(), -1).cpu(), torch.float32, terms=3, depth=3)


@gpu
@pytest.mark.parametrize("rows,cols", [(1, 1), (3, 31), (4, 256), (7, 1000), (300, 4099)])
def test_rmsnorm_forward_and_backward(rows, cols):
    from ext import ops
    from rmsnorm import RMS_EPS
    x, w, dy = torch.randn(rows, cols, device="cuda"), 1 + 0.5 * torch.randn(cols, device="cuda"), \
        torch.randn(rows, cols, device="cuda")
    x64, w64 = x.double().requires_grad_(), w.double().requires_grad_()
    y64 = torch.nn.functional.rms_norm(x64, (cols,), w64, eps=RMS_EPS)
    y64.backward(dy.double())
    y, rstd = ops().rmsnorm_forward(x, w, RMS_EPS)
    dx, dw = ops().rmsnorm_backward(dy, x, w, rstd)
    assert_close(y.cpu(), y64.detach().cpu(), torch.float32, terms=cols, depth=4)
    rstd64 = (x.double().square().mean(1) + RMS_EPS).rsqrt()
    assert_close(rstd.cpu(), rstd64.cpu(), torch.float32, terms=cols, depth=2)
    scale = float((dy * w).abs().max() * x.abs().max())
    assert_close(dx.cpu(), x64.grad.cpu(), torch.float32, terms=cols, depth=6, scale=scale)
    assert_close(dw.cpu(), w64.grad.cpu(), torch.float32, terms=rows, depth=4,
                 scale=float((dy * x).abs().sum(0).max()))
