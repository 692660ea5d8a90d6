"""int8 quantization against a float64 NumPy reference, with the rounding bound |x - deq(q(x))| <= s/2."""
import numpy as np
import pytest
import torch

from dlc_shared.testing import assert_close, tolerance
from quantize import (dequantize_affine, dequantize_symmetric, outlier_weight, quantize_affine,
                      quantize_symmetric)

GRANULARITIES = ["tensor", "channel", "group"]


def per_element(scale, shape, granularity, group=32):
    """Broadcast a per-block scale back to every element."""
    blocks = {"tensor": 1, "channel": shape[0], "group": shape[0] * shape[1] // group}[granularity]
    return scale.reshape(blocks, 1).expand(blocks, shape[0] * shape[1] // blocks).reshape(shape)


def fp32_slack(s):
    """Beyond s/2, float32 rounds x/s (|x/s| <= 255) and the product q*s: two roundings of values up to 255 s."""
    return tolerance(torch.float32, scale=1.0, terms=1, depth=2, safety=1) * 255 * s


@pytest.mark.parametrize("granularity", GRANULARITIES)
def test_symmetric_round_trip_error_is_at_most_half_a_scale(granularity):
    w = outlier_weight()
    q, s = quantize_symmetric(w, granularity)
    assert q.dtype == torch.int8 and q.abs().max() <= 127
    s_el = per_element(s, w.shape, granularity)
    err = (dequantize_symmetric(q, s, granularity) - w).abs()
    assert (err <= s_el / 2 + fp32_slack(s_el)).all()
    assert (err > s_el / 4).any()  # and the bound is not vacuous: errors do reach toward s/2


@pytest.mark.parametrize("granularity", GRANULARITIES)
def test_affine_round_trip_error_is_at_most_half_a_scale(granularity):
    x = torch.randn(16, 64, generator=torch.Generator().manual_seed(2)) * 3 + 1
    q, s, z = quantize_affine(x, granularity)
    assert q.dtype == torch.uint8 and torch.equal(z, torch.round(z))
    s_el = per_element(s, x.shape, granularity)
    assert ((dequantize_affine(q, s, z, granularity) - x).abs() <= s_el / 2 + fp32_slack(s_el)).all()


@pytest.mark.parametrize("granularity", GRANULARITIES)
def test_levels_match_a_float64_numpy_reference(granularity):
    w = outlier_weight(seed=3)
    q, s = quantize_symmetric(w, granularity)
    s_el = per_element(s, w.shape, granularity).double().numpy()
    amax = np.abs(w.double().numpy().reshape(s.shape[0], -1)).max(axis=1)
    assert_close(s.flatten(), amax / 127, torch.float32)  # one float32 division
    ratio = w.double().numpy() / s_el
    ref = np.clip(np.rint(ratio), -127, 127)
    diff = np.abs(q.numpy().astype(np.float64) - ref)
    near_tie = np.abs(np.abs(ratio - np.floor(ratio)) - 0.5) < 1e-4  # float32 x/s may land on either side
    assert diff.max() <= 1 and (diff[~near_tie] == 0).all()


def test_finer_scales_are_never_larger():
    w = outlier_weight()
    s_t = quantize_symmetric(w, "tensor")[1]
    s_c = per_element(quantize_symmetric(w, "channel")[1], w.shape, "channel")
    s_g = per_element(quantize_symmetric(w, "group")[1], w.shape, "group")
    assert (s_g <= s_c).all() and (s_c <= s_t).all()  # a block's amax never exceeds its parent's


def test_an_outlier_channel_ruins_per_tensor_scale_for_the_other_rows():
    w = outlier_weight()
    others = torch.arange(w.shape[0]) != 5
    errs = {}
    for g in GRANULARITIES:
        q, s = quantize_symmetric(w, g)
        errs[g] = (dequantize_symmetric(q, s, g) - w).abs()[others].mean().item()
    # per tensor, s ~ 100 * 0.02 * 3.7 / 127 ~ 0.06: most N(0, 0.02) weights round to 0, error ~ E|w| = 0.016;
    # per channel s ~ 0.02 * 3.7 / 127 ~ 6e-4 and a uniform rounding error averages s/4: a ratio near 100
    assert errs["tensor"] > 20 * errs["channel"]
    assert errs["group"] <= errs["channel"] * 1.01


def test_affine_halves_the_scale_for_non_negative_data():
    x = torch.relu(torch.randn(1, 4096, generator=torch.Generator().manual_seed(1)))
    _, s_sym = quantize_symmetric(x)
    q, s_aff, z = quantize_affine(x)
    assert z.item() == 0 and s_aff.item() == pytest.approx(s_sym.item() * 127 / 255, rel=2 ** -22)
    assert (dequantize_affine(q, s_aff, z)[x == 0] == 0).all()  # zero is a level: ReLU zeros stay exact


def test_bad_granularity_and_group_are_rejected():
    with pytest.raises(ValueError):
        quantize_symmetric(torch.ones(4, 10), "group", group=4)
    with pytest.raises(ValueError):
        quantize_symmetric(torch.ones(4, 8), "row")


def test_worked_answers():
    w = outlier_weight()
    _, s = quantize_symmetric(w, "tensor")
    assert round(s.item(), 4) == 0.0587 and torch.round(torch.tensor(0.01) / s).item() == 0
    _, s_c = quantize_symmetric(w, "channel")
    assert torch.round(torch.tensor(0.01) / s_c[0]).item() > 10  # a normal row keeps 0.01 as a dozen-plus levels
    assert quantize_symmetric(w, "group", 32)[1].numel() == 512  # 64 * 256 / 32 scales
