"""The Triton dequant-fused int4 GEMV (interpreter on a CPU, compiled on a GPU) against a float64 reference."""
import pytest
import torch
from torch import nn

from dlc_shared.testing import assert_close, gpu
from quant import Int4Linear, dequantize_int4, unpack_int4

pytest.importorskip("triton", reason="triton is not installed in this environment (pip install triton)")
import dequant_gemv  # noqa: E402  (sets TRITON_INTERPRET=1 before importing triton when there is no GPU)


def layer(n, k, group, seed=0):
    torch.manual_seed(seed)
    return Int4Linear(nn.Linear(k, n, bias=False), group, kernel=False)


def reference(m, x):
    w = dequantize_int4(unpack_int4(m.packed), m.scale_zero.double(), m.group)
    return w @ x.double(), w.abs() @ x.double().abs()


@pytest.mark.parametrize("n,k,group", [(64, 64, 64), (100, 128, 128), (192, 256, 64), (48, 384, 128)])
def test_triton_int4_gemv_matches_the_float64_reference(n, k, group):
    m = layer(n, k, group)
    x = torch.randn(k, generator=torch.Generator().manual_seed(1))
    ref, mag = reference(m, x)
    y = dequant_gemv.int4_gemv(x, m.packed, m.scale_zero, group)
    assert y.shape == (n,)
    # fp32 accumulation over K terms, two rounding stages per block (s*dot + z*sum x); the sum cancels, so
    # the scale is the largest sum of |w||x|, not the largest output.
    assert_close(y, ref, torch.float32, terms=k, depth=2, scale=float(mag.max()))


def test_rows_past_the_last_block_are_masked():
    m = layer(70, 64, 64)  # 70 rows: the second program has 6 live rows and 58 masked ones
    x = torch.randn(64, generator=torch.Generator().manual_seed(2))
    ref, mag = reference(m, x)
    assert_close(dequant_gemv.int4_gemv(x, m.packed, m.scale_zero, 64), ref, torch.float32, terms=64, depth=2,
                 scale=float(mag.max()))


def test_shapes_that_do_not_fit_the_blocks_are_refused():
    m = layer(64, 64, 64)
    with pytest.raises(ValueError, match="multiples of 64"):
        dequant_gemv.int4_gemv(torch.randn(64), m.packed, m.scale_zero, 32)
    with pytest.raises(ValueError, match="shapes do not fit"):
        dequant_gemv.int4_gemv(torch.randn(32), m.packed, m.scale_zero, 64)


def test_gemv_bytes():
    b = dequant_gemv.gemv_bytes(4096, 4096, 128)
    assert b["fused"] == 4096 * 2048 + 32 * 4096 * 2 * 4 + 4096 * 4 + 4096 * 4
    assert b["unfused"] - b["fused"] == 2 * 4096 * 4096 * 2


@gpu
def test_triton_int4_gemv_on_the_gpu():
    m = layer(4096, 4096, 128)
    x = torch.randn(4096, generator=torch.Generator().manual_seed(3))
    ref, mag = reference(m, x)
    y = dequant_gemv.int4_gemv(x.cuda(), m.packed.cuda(), m.scale_zero.cuda(), 128)
    assert_close(y.cpu(), ref, torch.float32, terms=4096, depth=2, scale=float(mag.max()))
