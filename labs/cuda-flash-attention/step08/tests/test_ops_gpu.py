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
@pytest.mark.parametrize("heads,n,d", [(1, 1, 64), (2, 33, 64), (3, 100, 128), (2, 1000, 64), (1, 4097, 128)])
def test_attention_flash(heads, n, d):
    from ext import ops
    q, k, v = (torch.randn(heads, n, d, device="cuda") for _ in range(3))
    o, lse = ops().attention_flash(q, k, v)
    expected = sdpa(q.double(), k.double(), v.double())
    assert_close(o.cpu(), expected.cpu(), torch.float32, terms=max(n, d), depth=3, scale=float(v.abs().max()))
    s = q.double() @ k.double().transpose(1, 2) / d**0.5
    assert_close(lse.cpu(), torch.logsumexp(s, -1).cpu(), torch.float32, terms=max(n, d), depth=3,
                 scale=float(s.abs().max()))


@gpu
@pytest.mark.parametrize("heads,n,d", [(1, 1, 64), (2, 33, 64), (3, 100, 128), (1, 4097, 128)])
def test_attention_flash_causal(heads, n, d):
    from ext import ops
    q, k, v = (torch.randn(heads, n, d, device="cuda") for _ in range(3))
    o, _ = ops().attention_flash(q, k, v, causal=True)
    expected = sdpa(q.double(), k.double(), v.double(), is_causal=True)
    assert_close(o.cpu(), expected.cpu(), torch.float32, terms=max(n, d), depth=3, scale=float(v.abs().max()))
    assert torch.equal(o[:, 0], v[:, 0])  # the first query sees only key 0: p = 1, l = 1, exactly v_0


@gpu
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_flash_sdpa_against_sdpa(causal, dtype):
    from sdpa import flash_sdpa
    q, k, v = (torch.randn(2, 4, 1000, 128, device="cuda", dtype=dtype) for _ in range(3))
    ours = flash_sdpa(q, k, v, is_causal=causal, scale=0.1)
    exact = sdpa(q.double(), k.double(), v.double(), is_causal=causal, scale=0.1)
    assert ours.dtype == dtype and ours.shape == q.shape
    # float32 sums of 1000 terms; on bf16 inputs the output's one bf16 rounding dominates them
    terms, depth = (1000, 3) if dtype == torch.float32 else (1, 1)
    assert_close(ours.double().cpu(), exact.cpu(), dtype, terms=terms, depth=depth, scale=float(v.abs().max()))
    theirs = sdpa(q, k, v, is_causal=causal, scale=0.1)
    assert_close(theirs.double().cpu(), exact.cpu(), dtype, terms=1000, depth=3, scale=float(v.abs().max()))


@gpu
def test_wrong_input_raises_a_python_error():
    from ext import ops
    q = torch.randn(1, 4, 8, device="cuda")
    with pytest.raises(RuntimeError, match="float32 CUDA"):
        ops().attention_naive(q.double(), q.double(), q.double())
    with pytest.raises(RuntimeError, match="alike"):
        ops().attention_naive(q, q, torch.randn(1, 5, 8, device="cuda"))
