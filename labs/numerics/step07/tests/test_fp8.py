"""FP8 scaling against float64: the per-element rounding bound, the emulated matmul, torch._scaled_mm, delayed scaling."""
import pytest
import torch

from dlc_shared.testing import assert_close, gpu, tolerance
from fp8 import (E4M3_MAX, DelayedScaling, amax_scale, dequantize_fp8, fp8_matmul_emulated, fp8_matmul_scaled_mm,
                 quantize_fp8)

U = 2.0 ** -4  # E4M3 unit roundoff: 3 mantissa bits
HALF_SUBNORMAL_GAP = 2.0 ** -10  # E4M3 subnormals are multiples of 2^-9


def operands(m=32, k=128, n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return 1e-3 * torch.randn(m, k, generator=g), torch.randn(k, n, generator=g)


def test_round_trip_error_within_half_a_unit_in_the_last_place():
    a, _ = operands()
    s = amax_scale(a.abs().max().item())
    err = (dequantize_fp8(quantize_fp8(a, s), s).double() - a.double()).abs()
    # normal: relative u; subnormal: half the 2^-9 gap, in scaled units; plus float32's roundings of x*s and q/s
    bound = torch.maximum(U * a.double().abs(), torch.full_like(err, HALF_SUBNORMAL_GAP / s))
    assert (err <= bound + tolerance(torch.float32, 1.0, depth=2, safety=1) * a.double().abs()).all()


def test_amax_scaling_puts_the_largest_element_at_448():
    a, _ = operands()
    q = quantize_fp8(a, amax_scale(a.abs().max().item()))
    assert q.float().abs().max().item() == E4M3_MAX == 448.0


def test_out_of_range_values_saturate_and_zero_scale_is_one():
    q = quantize_fp8(torch.tensor([1e6, -1e6, float("inf")]), 1.0)
    assert q.float().tolist() == [448.0, -448.0, 448.0]
    assert amax_scale(0.0) == 1.0


def test_emulated_matmul_is_float32_accumulation_of_exact_products():
    a, b = operands()
    sa, sb = amax_scale(a.abs().max().item()), amax_scale(b.abs().max().item())
    a_q, b_q = quantize_fp8(a, sa), quantize_fp8(b, sb)
    c = fp8_matmul_emulated(a_q, b_q, sa, sb)
    exact = (a_q.double() / sa) @ (b_q.double() / sb)  # float64 on the same FP8 values
    scale = float(((a_q.double().abs() / sa) @ (b_q.double().abs() / sb)).max())
    assert_close(c, exact, torch.float32, terms=a.shape[1], depth=2, scale=scale)  # the sums, then the rescale


def test_scaled_fp8_matmul_error_against_the_unquantized_float64_product():
    a, b = operands()
    sa, sb = amax_scale(a.abs().max().item()), amax_scale(b.abs().max().item())
    c = fp8_matmul_emulated(quantize_fp8(a, sa), quantize_fp8(b, sb), sa, sb).double()
    a64, b64 = a.double(), b.double()
    # each input carries |da| <= u|a| + gap_a (normal or subnormal), so |dC| <= (2u + u^2)|a||b| + gap terms
    ga, gb = HALF_SUBNORMAL_GAP / sa, HALF_SUBNORMAL_GAP / sb
    bound = ((2 * U + U * U) * (a64.abs() @ b64.abs()) + ga * b64.abs().sum(0) + gb * a64.abs().sum(1)[:, None]
             + (1 + U) * ga * gb * a.shape[1])
    assert ((c - a64 @ b64).abs() <= bound + tolerance(torch.float32, bound.max(), terms=a.shape[1], depth=2)).all()
    unscaled = fp8_matmul_emulated(quantize_fp8(a, 1.0), quantize_fp8(b, 1.0), 1.0, 1.0).double()
    assert (unscaled - a64 @ b64).abs().max() > 5 * (c - a64 @ b64).abs().max()  # ~1e-3 values fall into subnormals


def test_torch_scaled_mm_on_cpu_matches_the_emulation():
    a, b = operands(m=16, k=64, n=32)
    sa, sb = amax_scale(a.abs().max().item()), amax_scale(b.abs().max().item())
    a_q, b_q = quantize_fp8(a, sa), quantize_fp8(b, sb)
    exact = (a_q.double() / sa) @ (b_q.double() / sb)
    scale = float(((a_q.double().abs() / sa) @ (b_q.double().abs() / sb)).max())
    assert_close(fp8_matmul_scaled_mm(a_q, b_q, sa, sb), exact, torch.float32, terms=64, depth=2, scale=scale)


@gpu
def test_torch_scaled_mm_on_cuda_matches_the_emulation():
    if torch.cuda.get_device_capability() < (8, 9):
        pytest.skip("FP8 tensor cores need compute capability 8.9 or newer")
    a, b = operands(m=64, k=256, n=32)
    sa, sb = amax_scale(a.abs().max().item()), amax_scale(b.abs().max().item())
    a_q, b_q = quantize_fp8(a, sa), quantize_fp8(b, sb)
    c = fp8_matmul_scaled_mm(a_q.cuda(), b_q.cuda(), sa, sb).cpu()
    exact = (a_q.double() / sa) @ (b_q.double() / sb)
    scale = float(((a_q.double().abs() / sa) @ (b_q.double().abs() / sb)).max())
    assert_close(c, exact, torch.float32, terms=256, depth=2, scale=scale)
    assert torch.equal(quantize_fp8(a.cuda(), sa).cpu().view(torch.uint8), a_q.view(torch.uint8))  # same cast bits


def test_delayed_scaling_uses_the_history_and_saturates_on_growth():
    d = DelayedScaling(history_len=2)
    scales = []
    for amax in [2.0, 4.0, 8.0, 1.0, 1.0, 1.0]:
        x = torch.tensor([amax, -amax / 3, amax / 7])
        q, s = d.quantize(x)
        scales.append(s)
        assert torch.equal(q.view(torch.uint8), quantize_fp8(x, s).view(torch.uint8))  # cast with the scale it reports
        if amax == 8.0:  # the history said 4: 8 * 448/4 = 896 saturates at 448
            assert q.float()[0].item() == 448.0
    assert scales == [1.0, 448 / 2, 448 / 4, 448 / 8, 448 / 8, 448 / 1]  # max of the last two amaxes
    assert d.history == [1.0, 1.0]


def test_delayed_scaling_margin_leaves_headroom():
    d = DelayedScaling(history_len=4, margin=1)
    d.quantize(torch.tensor([4.0]))
    q, s = d.quantize(torch.tensor([7.0]))  # grew 1.75x: the margin of 2x absorbs it (7 * 56 = 392)
    assert s == 448 / 4 / 2 and q.float().abs().max().item() < 448


def test_worked_answer_unscaled_small_values_flush():
    assert quantize_fp8(torch.tensor([9e-4]), 1.0).float().item() == 0.0  # below 2^-10, half the smallest subnormal
    assert quantize_fp8(torch.tensor([1e-3]), 1.0).float().item() == 2.0 ** -9
    z = 1e-3 * torch.randn(100_000, generator=torch.Generator().manual_seed(0))
    flushed = (quantize_fp8(z, 1.0).float() == 0).float().mean().item()
    assert abs(flushed - 0.671) < 0.01  # P(|N(0,1)| < 0.977) = 0.671; the sample's std is 0.0015
