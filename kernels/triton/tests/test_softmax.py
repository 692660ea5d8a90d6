"""dlc_kernels.triton.softmax against torch.softmax in float64."""
import pytest
import torch

from dlc_kernels.triton import softmax
from dlc_shared.testing import assert_close, gpu


def rows(n, d, device="cpu"):
    return (5 * torch.randn(n, d, generator=torch.Generator().manual_seed(d))).to(device)


@pytest.mark.parametrize("d", [64, 200])     # 200: four 64-wide blocks, the last masked
def test_matches_float64(d):
    x = rows(4, d)
    y = softmax(x, block=64)
    assert_close(y, torch.softmax(x.double(), -1), torch.float32, terms=d)


def test_large_logits_and_masked_entries():
    x = torch.tensor([[1000.0, 999.0, float("-inf"), 998.0] * 20])
    y = softmax(x, block=64)
    assert torch.isfinite(y).all() and (y[0, 2::4] == 0).all()
    assert_close(y, torch.softmax(x.double(), -1), torch.float32, terms=80)


def test_block_must_be_a_power_of_two():
    with pytest.raises(ValueError, match="power of two"):
        softmax(rows(2, 8), block=48)


@gpu
def test_cuda():
    x = rows(128, 5000, "cuda")
    assert_close(softmax(x), torch.softmax(x.double(), -1), torch.float32, terms=5000)
