"""The MLP forward against a float64 NumPy reference; its FLOP formula against FlopCounterMode."""
import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from dlc_shared.testing import assert_close
from mlp import forward_flops, init_mlp, layer_flops, mlp_forward

SIZES = [12, 32, 24, 5]


def numpy_mlp(x, params):
    h = x
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = np.maximum(h, 0.0)
    return h


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_forward_matches_numpy(dtype):
    params = init_mlp(SIZES, seed=3, dtype=dtype)
    x = torch.randn(7, SIZES[0], dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    out = mlp_forward(x.to(dtype), params).detach().double().numpy()
    ref = numpy_mlp(x.numpy(), [(w.detach().double().numpy(), b.detach().double().numpy()) for w, b in params])
    assert np.std(ref) > 0.1  # varied outputs, not a degenerate all-equal network
    # one matmul stage per layer; the longest reduction is the widest layer input
    assert_close(out, ref, dtype, terms=max(SIZES[:-1]), depth=len(SIZES) - 1)


@pytest.mark.parametrize("batch, sizes", [(1, [3, 4]), (7, SIZES), (16, [64, 128, 128, 128, 10])])
def test_flop_formula_matches_flop_counter(batch, sizes):
    params = init_mlp(sizes)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        mlp_forward(torch.randn(batch, sizes[0]), params)
    assert counter.get_total_flops() == forward_flops(batch, sizes)
    # hand count of the last case's first layer: 16 rows x 128 outputs x 64 multiply-adds x 2
    assert layer_flops(16, [64, 128])[0] == 16 * 128 * 64 * 2


def test_bad_sizes_rejected():
    with pytest.raises(ValueError):
        init_mlp([10])
