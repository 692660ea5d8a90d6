"""The kernels on a GPU against torch SDPA in float64, on fresh random inputs."""
import pytest
import torch

from dlc_shared.testing import assert_close, gpu

sdpa = torch.nn.functional.scaled_dot_product_attention


@gpu
@pytest.mark.parametrize("heads,n,d", [(1, 1, 8), (2, 33, 64), (4, 257, 128), (1, 1000, 64)])
def test_attention_naive(heads, n, d):
    from ext import ops
    q, k, v = (torch.randn(heads, n, d, device="cuda") for _ in range(3))
    o = ops().attention_naive(q, k, v)
    assert_close(o.cpu(), sdpa(q.double(), k.double(), v.double()).cpu(), torch.float32, terms=max(n, d), depth=3,
                 scale=float(v.abs().max()))


@gpu
@pytest.mark.parametrize("rows,n", [(1, 1), (3, 31), (5, 1000), (64, 4099)])
def test_softmax_online(rows, n):
    from ext import ops
    x = torch.randn(rows, n, device="cuda") * 4
    x[0, 0] = 1000.0  # a large logit: the running max keeps every exponent <= 0
    assert_close(ops().softmax_online(x).cpu(), torch.softmax(x.double(), -1).cpu(), torch.float32, terms=n, depth=3)


@gpu
@pytest.mark.parametrize("heads,n,d", [(1, 1, 64), (2, 33, 64), (3, 100, 128), (1, 1000, 128)])
def test_scores_tiled(heads, n, d):
    from ext import ops
    q, k = torch.randn(heads, n, d, device="cuda"), torch.randn(heads, n, d, device="cuda")
    s = ops().scores_tiled(q, k)
    expected = q.double() @ k.double().transpose(1, 2) / d**0.5
    assert_close(s.cpu(), expected.cpu(), torch.float32, terms=d, scale=float(expected.abs().max()))
    with pytest.raises(RuntimeError, match="64 and 128"):
        ops().scores_tiled(q[..., :32].contiguous(), k[..., :32].contiguous())


@gpu
def test_wrong_input_raises_a_python_error():
    from ext import ops
    q = torch.randn(1, 4, 8, device="cuda")
    with pytest.raises(RuntimeError, match="float32 CUDA"):
        ops().attention_naive(q.double(), q.double(), q.double())
    with pytest.raises(RuntimeError, match="alike"):
        ops().attention_naive(q, q, torch.randn(1, 5, 8, device="cuda"))
