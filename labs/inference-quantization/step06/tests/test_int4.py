"""Group-wise int4: packing checked bit for bit, the error bound per group, the CPU kernel against the reference."""
import numpy as np
import pytest
import torch
from torch import nn

from dlc_shared.testing import assert_close, tolerance
from evaluate import perplexity
from quant import (Int4Linear, dequantize_int4, pack_int4, quantize_int4_groupwise, quantize_model,
                   unpack_int4)


def test_packing_by_hand():
    q = torch.tensor([[3, 12, 0, 15]], dtype=torch.uint8)
    assert pack_int4(q).tolist() == [[0xC3, 0xF0]]  # low nibble = even k, high nibble = odd k


def test_pack_unpack_bit_for_bit_against_numpy():
    q = torch.randint(0, 16, (32, 256), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    packed = pack_int4(q)
    qn = q.numpy().astype(np.uint16)
    assert packed.dtype == torch.uint8 and packed.shape == (32, 128)
    assert (packed.numpy() == (qn[:, 0::2] + 16 * qn[:, 1::2])).all()  # arithmetic, not bit operations
    assert torch.equal(unpack_int4(packed), q)


@pytest.mark.parametrize("group", [32, 128])
def test_group_error_is_at_most_half_a_step(group):
    w = torch.randn(64, 256, generator=torch.Generator().manual_seed(1)) * 0.05
    q, sz = quantize_int4_groupwise(w, group)
    assert sz.shape == (256 // group, 64, 2) and int(q.max()) <= 15
    step = sz[..., 0].T.repeat_interleave(group, dim=1)
    err = (dequantize_int4(q, sz, group) - w).abs()
    assert (err <= step / 2 + tolerance(torch.float32, float(w.abs().max()), depth=3)).all()
    # each group's extremes are levels 0 and 15 exactly
    assert (q.reshape(64, -1, group).amax(2) == 15).all() and (q.reshape(64, -1, group).amin(2) == 0).all()


def test_kernel_layout_holds_the_same_nibbles():
    # The kernel's tiling depends on the CPU's vector width (64 rows per tile with AVX-512, 32 with AVX2),
    # so compare what is portable: the same number of bytes, holding the same multiset of 4-bit codes.
    lin = nn.Linear(256, 64, bias=False)
    layer = Int4Linear(lin, 32)
    kp = layer.kernel_packed
    assert kp.dtype == torch.uint8 and kp.shape == layer.packed.shape
    assert torch.equal(torch.sort(unpack_int4(kp).flatten()).values, torch.sort(unpack_int4(layer.packed).flatten()).values)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("group", [32, 128])
def test_int4_kernel_matches_the_reference(dtype, group):
    lin = nn.Linear(256, 64, bias=False)
    x = torch.randn(3, 256, generator=torch.Generator().manual_seed(2)).to(dtype)
    layer = Int4Linear(lin, group).to(dtype)
    w = dequantize_int4(unpack_int4(layer.packed), layer.scale_zero.double(), group)
    ref = x.double() @ w.T
    scale = float((x.double().abs() @ w.abs().T).max())
    assert_close(layer(x), ref, dtype, terms=256, scale=scale)
    assert_close(Int4Linear(lin, group, kernel=False).to(dtype)(x), ref, dtype, terms=256, scale=scale)


def test_int4_storage_bytes():
    layer = Int4Linear(nn.Linear(256, 64, bias=False), 128).to(torch.bfloat16)
    assert layer.decode_bytes() == 64 * 256 // 2 + (256 // 128) * 64 * 2 * 2  # nibbles + (s, z) in bf16


def test_int4_g128_perplexity_within_five_percent(trained):
    # The quality target for int4 group-128 (a quantization bound): within 5% of fp32.
    base = perplexity(trained, windows=16)
    int4 = quantize_model(trained, lambda lin: Int4Linear(lin, 128, kernel=False))  # the kernel is checked above
    assert abs(perplexity(int4, windows=16) / base - 1) < 0.05
