"""The kernels on a GPU against PyTorch, on fresh random inputs and outputs poisoned with NaN."""
import pytest
import torch

from dlc_shared.testing import gpu, tolerance


@gpu
@pytest.mark.parametrize("n", [1, 255, 257, 1_000_003])
def test_copy(n):
    from ext import ops
    src = torch.randn(n, device="cuda")
    dst = torch.full_like(src, float("nan"))
    ops().copy(src, dst)
    assert torch.equal(dst, src)


@gpu
@pytest.mark.parametrize("stride", [1, 2, 8, 33])
def test_copy_strided(stride):
    from ext import ops
    src = torch.randn(1000 * stride + 5, device="cuda")
    dst = torch.full((1000,), float("nan"), device="cuda")
    ops().copy_strided(src, dst, stride)
    assert torch.equal(dst, src[: 1000 * stride : stride])


@gpu
@pytest.mark.parametrize("shape", [(1, 1), (32, 8), (33, 70), (1000, 517)])
def test_transpose_naive(shape):
    from ext import ops
    a = torch.randn(shape, device="cuda")
    out = torch.full(shape[::-1], float("nan"), device="cuda")
    ops().transpose_naive(a, out)
    assert torch.equal(out, a.t())


@gpu
@pytest.mark.parametrize("pad", [False, True])
@pytest.mark.parametrize("shape", [(1, 1), (32, 32), (33, 70), (1000, 517)])
def test_transpose_smem(shape, pad):
    from ext import ops
    a = torch.randn(shape, device="cuda")
    out = torch.full(shape[::-1], float("nan"), device="cuda")
    ops().transpose_smem(a, out, pad)
    assert torch.equal(out, a.t())


def assert_matmul_close(C, A, B):
    """FP32 accumulation of K products against float64, by the tolerance rule per element: terms K, and as
    the scale that element's partial-sum magnitude (|A| @ |B|), since sums of random products cancel."""
    ref = A.double() @ B.double()
    bound = tolerance(torch.float32, 1.0, terms=A.shape[1]) * (A.double().abs() @ B.double().abs())
    assert not torch.isnan(C).any()
    assert torch.all((C.double() - ref).abs() <= bound)


@gpu
@pytest.mark.parametrize("version", range(2))
@pytest.mark.parametrize("M,N,K", [(1, 1, 1), (64, 64, 64), (33, 70, 45), (256, 130, 513)])
def test_matmul(version, M, N, K):
    from ext import ops
    A, B = torch.randn(M, K, device="cuda"), torch.randn(K, N, device="cuda")
    C = torch.full((M, N), float("nan"), device="cuda")
    ops().matmul(A, B, C, version)
    assert_matmul_close(C, A, B)
