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
def test_wrong_input_raises_a_python_error():
    from ext import ops
    q = torch.randn(1, 4, 8, device="cuda")
    with pytest.raises(RuntimeError, match="float32 CUDA"):
        ops().attention_naive(q.double(), q.double(), q.double())
    with pytest.raises(RuntimeError, match="alike"):
        ops().attention_naive(q, q, torch.randn(1, 5, 8, device="cuda"))
