"""int8 per-channel against a float64 NumPy reference; the kernel against the Python dequant reference."""
import numpy as np
import pytest
import torch
from torch import nn

from decode import weight_bytes_per_token
from dlc_shared.testing import assert_close, tolerance
from evaluate import perplexity
from quant import Int8Linear, dequantize_int8, quantize_int8_per_channel, quantize_model


def weight(n=48, k=64, seed=0):
    w = torch.randn(n, k, generator=torch.Generator().manual_seed(seed)) * 0.05
    w[3, 7] = 2.0  # an outlier: only its own row's scale grows
    return w


def test_int8_codes_match_a_float64_reference():
    w = weight()
    q, s = quantize_int8_per_channel(w)
    w64 = w.double().numpy()
    s64 = np.abs(w64).max(axis=1) / 127
    assert_close(s, s64, torch.float32)
    r = w64 / s64[:, None]
    q64 = np.clip(np.round(r), -127, 127)
    near_tie = np.abs(np.abs(r - np.floor(r)) - 0.5) < 1e-4  # fp32 and fp64 may round a near-tie differently
    assert q.dtype == torch.int8 and int(q.abs().max()) == 127
    assert (q.numpy() == q64)[~near_tie].all()


def test_roundtrip_error_is_at_most_half_a_step_per_row():
    w = weight()
    q, s = quantize_int8_per_channel(w)
    err = (dequantize_int8(q, s) - w).abs()
    # Rounding to the nearest level: |error| <= s/2 (plus fp32 rounding of w/s and s*q).
    bound = s[:, None] / 2 + tolerance(torch.float32, float(w.abs().max()), depth=2)
    assert (err <= bound).all()
    # The outlier's row has a ~10x larger step; the other rows keep their own small step.
    assert s[3] > 5 * s[torch.arange(48) != 3].max()


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("m", [1, 5])
def test_int8_kernel_matches_the_dequant_reference(dtype, m):
    lin = nn.Linear(64, 48, bias=False)
    with torch.no_grad():
        lin.weight.copy_(weight())
    x = torch.randn(m, 64, generator=torch.Generator().manual_seed(1))
    kernel = Int8Linear(lin).to(dtype)
    y = kernel(x.to(dtype))
    # Reference in float64 from the same codes and (dtype-rounded) scales.
    ref = x.to(dtype).double() @ (kernel.q.double() * kernel.scale.double()[:, None]).T
    scale = float((x.abs() @ (kernel.q.double().abs() * kernel.scale.double()[:, None]).T.float()).max())
    assert_close(y, ref, dtype, terms=64, scale=scale)  # partial sums cancel: scale from |x||w|
    assert_close(Int8Linear(lin, kernel=False).to(dtype)(x.to(dtype)), ref, dtype, terms=64, scale=scale)


def test_int8_storage_bytes():
    lin = nn.Linear(64, 48, bias=False)
    assert Int8Linear(lin).decode_bytes() == 48 * 64 + 48 * 4
    assert Int8Linear(lin).to(torch.bfloat16).decode_bytes() == 48 * 64 + 48 * 2


def test_quantize_model_replaces_every_linear_and_quarters_their_bytes(trained):
    q = quantize_model(trained, Int8Linear)
    assert not any(type(m) is nn.Linear for m in q.modules())
    n_linear = sum(m.q.numel() for m in q.modules() if isinstance(m, Int8Linear))
    assert n_linear == sum(m.weight.numel() for m in trained.modules() if isinstance(m, nn.Linear))
    rows = sum(m.q.shape[0] for m in q.modules() if isinstance(m, Int8Linear))
    assert weight_bytes_per_token(trained) - weight_bytes_per_token(q) == 3 * n_linear - 4 * rows
    assert trained.lm_head.weight is trained.embed_tokens.weight  # the original stays untouched


def test_int8_perplexity_within_one_percent(trained):
    # The quality target (a bound on quantization error, not on rounding): within 1% of fp32.
    base = perplexity(trained, windows=16)
    assert base < 2048 / 4  # the short-trained model has learned something (uniform guessing is 2048)
    int8 = quantize_model(trained, lambda lin: Int8Linear(lin, kernel=False))  # the kernel is checked above
    assert abs(perplexity(int8, windows=16) / base - 1) < 0.01
