"""The saved-tensor meter on ops whose saved tensors are known; the MLP formula against the meter."""
import pytest
import torch

from memory import SavedTensorMeter, unique_bytes
from mlp import activation_bytes, init_mlp, mlp_forward


def test_meter_counts_what_known_ops_save():
    x = torch.randn(10, 20, requires_grad=True)
    y = torch.randn(10, 20, requires_grad=True)
    with SavedTensorMeter() as meter:
        e = torch.exp(x)  # d exp(x) = exp(x) dx: keeps its output
    assert meter.bytes == e.nbytes == 10 * 20 * 4
    with SavedTensorMeter() as meter:
        x * y  # d(xy) = y dx + x dy: keeps both inputs
    assert meter.bytes == x.nbytes + y.nbytes
    with SavedTensorMeter() as meter:
        x + y  # d(x + y) = dx + dy: keeps nothing
    assert meter.bytes == 0
    with SavedTensorMeter([y]) as meter:
        x * y  # y is listed as a parameter: not an activation
    assert meter.bytes == x.nbytes


def test_meter_counts_a_shared_buffer_once():
    x = torch.randn(8, 8, requires_grad=True)
    with SavedTensorMeter() as meter:
        x * x.t()  # two views of one storage
    assert meter.bytes == 8 * 8 * 4


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64])
@pytest.mark.parametrize("batch, sizes", [(1, [3, 4]), (5, [12, 32, 24, 5]), (32, [64, 128, 128, 10])])
def test_mlp_activation_formula_matches_measurement(batch, sizes, dtype):
    params = init_mlp(sizes, dtype=dtype)
    with SavedTensorMeter([p for wb in params for p in wb]) as meter:
        mlp_forward(torch.randn(batch, sizes[0], dtype=dtype), params)
    itemsize = torch.finfo(dtype).bits // 8
    assert meter.bytes == activation_bytes(batch, sizes, itemsize)


def test_formula_by_hand():
    # B=2, widths 3 -> 4 -> 5, float32: the inputs of both layers, 2*3 + 2*4 values
    assert activation_bytes(2, [3, 4, 5]) == 4 * (2 * 3 + 2 * 4)


def test_hand_cache_keeps_more_than_autograd():
    sizes = [6, 16, 16, 3]
    params = init_mlp(sizes)
    cache = []
    with torch.no_grad():
        mlp_forward(torch.randn(4, 6), params, cache)
    # our cache keeps each pre-activation z as well; autograd gets the ReLU mask from the output
    assert unique_bytes(t for pair in cache for t in pair) == 4 * 4 * (6 + 16 + 16 + 16 + 16 + 3)
    assert unique_bytes(t for pair in cache for t in pair) > activation_bytes(4, sizes)
