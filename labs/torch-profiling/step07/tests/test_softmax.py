"""Online softmax equals the float64 softmax, in PyTorch and in the Triton kernel."""
import math

import numpy as np
import pytest
import torch

from dlc_shared.testing import assert_close, gpu
from softmax import online_max_sum, online_softmax, passes, softmax_triton


def reference(x):
    x = x.double().numpy()
    e = np.exp(x - x.max(-1, keepdims=True))
    return torch.from_numpy(e / e.sum(-1, keepdims=True))


def rows(n, d, device="cpu", dtype=torch.float32):
    return (5 * torch.randn(n, d, generator=torch.Generator().manual_seed(d))).to(device, dtype)


@pytest.mark.parametrize("block", [1, 7, 64, 1000])   # one column at a time, ragged, the usual, all at once
def test_online_statistics_are_the_max_and_the_sum(block):
    x = rows(3, 200).double()
    m, l = online_max_sum(x, block)
    assert torch.equal(m, x.amax(-1))                                     # a max is exact
    ref = torch.exp(x - x.amax(-1, keepdim=True)).sum(-1)
    assert_close(l, ref, torch.float64, terms=200, depth=200 // block + 1)  # one rescale per block


@pytest.mark.parametrize("fn", [online_softmax, softmax_triton], ids=["online", "triton"])
@pytest.mark.parametrize("d", [64, 200])              # 200: four 64-wide blocks, the last one masked
def test_softmax_matches_float64(fn, d):
    x = rows(4, d)
    y = fn(x)
    assert y.dtype == x.dtype
    assert_close(y, reference(x), torch.float32, terms=d)


def test_large_logits_do_not_overflow():
    x = torch.tensor([[1000.0, 999.0, -1000.0, 998.0] * 20])   # exp(1000) overflows float32
    for y in (online_softmax(x, block=8), softmax_triton(x)):
        assert torch.isfinite(y).all()
        assert_close(y, reference(x), torch.float32, terms=80)


def test_masked_entries_get_exactly_zero():
    x = rows(2, 100)
    x[:, 50:] = float("-inf")                 # a causal mask: a row sees only its first keys
    y = softmax_triton(x)
    assert (y[:, 50:] == 0).all()
    assert_close(y, reference(x), torch.float32, terms=50)


def test_passes_count_reads_and_writes():
    p = passes(8192, 8192)
    assert [v // 2**20 for v in p.values()] == [1024, 768, 512]
    assert math.isclose(p["safe (3 reads + 1 write)"] / p["online (2 reads + 1 write)"], 4 / 3)


@gpu
def test_triton_softmax_on_cuda():
    x = rows(128, 4096, "cuda")
    assert_close(softmax_triton(x, block=1024), reference(x.cpu()), torch.float32, terms=4096)
