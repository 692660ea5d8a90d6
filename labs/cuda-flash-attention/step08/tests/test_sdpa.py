"""flash_sdpa against torch's scaled_dot_product_attention on the CPU: the same interface, the same answer."""
import pytest
import torch

from dlc_shared.testing import assert_close
from sdpa import flash_sdpa

sdpa = torch.nn.functional.scaled_dot_product_attention


def qkv(shape, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(shape, generator=g, dtype=torch.float64).to(dtype) for _ in range(3))


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("shape", [(1, 1, 1, 8), (2, 3, 33, 16), (1, 2, 70, 64)])
def test_float64_twin_equals_sdpa(shape, causal):
    q, k, v = qkv(shape, torch.float64, sum(shape))
    ours, theirs = flash_sdpa(q, k, v, is_causal=causal), sdpa(q, k, v, is_causal=causal)
    assert ours.shape == theirs.shape and ours.dtype == torch.float64
    assert shape[2] == 1 or float(ours.std()) > 0.05  # varied outputs
    assert_close(ours, theirs, torch.float64, terms=max(shape[2:]), depth=3, scale=float(v.abs().max()))


@pytest.mark.parametrize("causal", [False, True])
def test_float32_twin_and_float32_sdpa_both_match_float64(causal):
    q, k, v = qkv((2, 2, 48, 32), torch.float32, 5)
    exact = sdpa(q.double(), k.double(), v.double(), is_causal=causal)
    for out in (flash_sdpa(q, k, v, is_causal=causal), sdpa(q, k, v, is_causal=causal)):
        assert out.dtype == torch.float32
        assert_close(out, exact, torch.float32, terms=48, depth=3, scale=float(v.abs().max()))


def test_scale_and_head_order_follow_sdpa():
    q, k, v = qkv((2, 3, 20, 8), torch.float64, 9)
    assert_close(flash_sdpa(q, k, v, scale=0.05), sdpa(q, k, v, scale=0.05), torch.float64, terms=20, depth=3)
    # swapping two heads of the input swaps those heads of the output: batch and heads fold back in place
    perm = [2, 0, 1]
    assert torch.equal(flash_sdpa(q[:, perm], k[:, perm], v[:, perm]), flash_sdpa(q, k, v)[:, perm])


def test_bad_shapes_and_dtypes_say_what_is_wrong():
    q = torch.zeros(1, 2, 4, 8)
    with pytest.raises(ValueError, match="one \\(batch, heads, n, d\\) shape"):
        flash_sdpa(q, q, q[:, :, :3])
    with pytest.raises(ValueError, match="float32 or float64"):
        flash_sdpa(q.half(), q.half(), q.half())
