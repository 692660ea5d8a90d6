"""Smoothing leaves the model's function unchanged (float64); W8A8's integer product is exact."""
import copy

import pytest
import torch
from torch import nn

from dlc_shared.testing import assert_close
from evaluate import perplexity
from quant import quantize_model
from smooth import W8A8Linear, activation_amax, quantize_per_token, smooth_factors, smooth_model


def test_smoothing_is_an_identity_in_float64(trained):
    model = copy.deepcopy(trained).double()  # smooth in float64 too: fp32 weights would round x/s and W*s
    smoothed = smooth_model(model, alpha=0.5)
    x = torch.randint(trained.cfg.vocab_size, (2, 32), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a, b = smoothed(x), model(x)
    cfg = trained.cfg
    # Same function, rounded differently: float64 eps over the longest dot product, through every layer.
    assert_close(a, b, torch.float64, terms=cfg.d_ff, depth=2 * cfg.n_layer + 1)
    assert not torch.equal(smoothed.layers[0].mlp.up_proj.weight, model.layers[0].mlp.up_proj.weight)


def test_smoothing_flattens_the_activation_channels(trained):
    def spread(model):  # how far the largest input channel of each q_proj sticks out above the median one
        amax = activation_amax(model)
        return [float(amax[b.self_attn.q_proj].max() / amax[b.self_attn.q_proj].median()) for b in model.layers]

    before, after = spread(trained), spread(smooth_model(trained, alpha=0.5))
    assert all(a < b for a, b in zip(after, before)), (before, after)


def test_smooth_factors_formula():
    act = torch.tensor([4.0, 1.0, 0.25])
    w = [torch.tensor([[1.0, 4.0, 1.0]]), torch.tensor([[-1.0, 1.0, 0.25]])]
    # alpha = 0.5: s = sqrt(amax_x) / sqrt(amax_W) = sqrt(4/1), sqrt(1/4), sqrt(0.25/1)
    assert torch.equal(smooth_factors(act, w, 0.5), torch.tensor([2.0, 0.5, 0.5]))


def test_per_token_quantization_bound():
    x = torch.randn(4, 64, generator=torch.Generator().manual_seed(3))
    q, s = quantize_per_token(x)
    assert ((q.float() * s[:, None] - x).abs() <= s[:, None] / 2 * (1 + 1e-6)).all()  # half a step (+fp32 slack)


def test_w8a8_integer_product_is_exact():
    lin = nn.Linear(64, 32, bias=False)
    layer = W8A8Linear(lin)
    x = torch.randn(5, 64, generator=torch.Generator().manual_seed(4))
    qx, sx = quantize_per_token(x)
    exact = qx.double() @ layer.q.double().T  # |sum| <= 64 * 127^2 < 2^53: float64 holds it exactly
    assert torch.equal(torch._int_mm(qx, layer.q.T).double(), exact)
    ref = exact * sx.double()[:, None] * layer.scale.double()[None, :]
    assert_close(layer(x), ref, torch.float32, depth=3)  # two scale products and a float conversion


@pytest.mark.parametrize("smooth", [False, True])
def test_w8a8_perplexity_close_to_fp32(trained, smooth):
    # A quantization bound: per-token int8 activations on this model stay within 5% of fp32.
    base = perplexity(trained, windows=8)
    model = smooth_model(trained) if smooth else trained
    assert abs(perplexity(quantize_model(model, W8A8Linear), windows=8) / base - 1) < 0.05
