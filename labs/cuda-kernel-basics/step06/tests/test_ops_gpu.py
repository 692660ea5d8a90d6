"""The kernels on a GPU against PyTorch, on fresh random inputs and outputs poisoned with NaN."""
import math

import numpy as np
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
@pytest.mark.parametrize("version", range(3))
@pytest.mark.parametrize("M,N,K", [(1, 1, 1), (64, 64, 64), (33, 70, 45), (256, 130, 513), (300, 260, 31)])
def test_matmul(version, M, N, K):
    from ext import ops
    A, B = torch.randn(M, K, device="cuda"), torch.randn(K, N, device="cuda")
    C = torch.full((M, N), float("nan"), device="cuda")
    ops().matmul(A, B, C, version)
    assert_matmul_close(C, A, B)


@gpu
@pytest.mark.parametrize("version", range(1, 7))
@pytest.mark.parametrize("n", [1, 257, 100_003, 3_000_017])
def test_reduce_sum_is_the_mirror_bit_for_bit(version, n):
    from ext import ops
    from reduction import reduce_mirror, rounding_depth
    # values in [0.5, 1.5), as in test_reduction.py, which shows for these n that the bound below fails
    # when any one block's values are lost
    x = torch.from_numpy(np.random.default_rng(n).uniform(0.5, 1.5, n).astype(np.float32)).cuda()
    out = torch.full((1,), float("nan"), device="cuda")
    ops().reduce_sum(x, out, version)
    expected = reduce_mirror(x.cpu().numpy(), version)  # the kernel's own float32 addition order
    assert out.item() == float(expected)
    exact = math.fsum(x.cpu().double().tolist())
    # at most rounding_depth float32 roundings per value: depth * eps * sum|x| (worst case, terms=1)
    bound = tolerance(torch.float32, scale=x.double().abs().sum().item(), depth=rounding_depth(n, version))
    assert abs(out.item() - exact) <= bound
