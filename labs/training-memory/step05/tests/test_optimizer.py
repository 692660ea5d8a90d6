"""Gradient and optimizer-state memory measured on torch.optim against the per-parameter formulas."""
import pytest
import torch

from mlp import init_mlp, mlp_forward, mse_loss_grad
from optim_state import BYTES_PER_PARAM, MixedPrecisionAdam, OPTIMIZERS, formula_bytes, make_optimizer, measured_bytes

SIZES = [12, 32, 24, 5]


def train_one_step(name, sizes=SIZES, lr=1e-3):
    dtype = torch.bfloat16 if name == "mixed-adam" else torch.float32
    params = [p for wb in init_mlp(sizes, dtype=dtype) for p in wb]
    opt = make_optimizer(name, params, lr=lr)
    gen = torch.Generator().manual_seed(0)
    x, target = torch.randn(4, sizes[0], generator=gen), torch.randn(4, sizes[-1], generator=gen)
    loss, _ = mse_loss_grad(mlp_forward(x.to(dtype), [tuple(params[i:i + 2]) for i in range(0, len(params), 2)]),
                            target.to(dtype))
    loss.backward()
    opt.step()
    return params, opt


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_measured_state_matches_formula(name):
    params, opt = train_one_step(name)
    n = sum(p.numel() for p in params)
    measured, formula = measured_bytes(params, opt), formula_bytes(n, name)
    assert measured["weights"] == formula["weights"]
    assert measured["grads"] == formula["grads"]
    # Adam also keeps one 4-byte step counter per parameter tensor; nothing else is allowed
    extra = measured["optimizer"] - formula["optimizer"]
    assert extra == (4 * len(params) if "adam" in name else 0)


def test_sixteen_bytes_per_parameter():
    assert sum(BYTES_PER_PARAM["adam"]) == sum(BYTES_PER_PARAM["mixed-adam"]) == 16


def test_mixed_precision_update_is_fp32_adam_on_the_master():
    params, opt = train_one_step("mixed-adam")
    # reference: plain fp32 Adam from the same starting weights, fed the same (bf16) gradients
    start = [p.detach().float() for wb in init_mlp(SIZES, dtype=torch.bfloat16) for p in wb]
    ref = [s.clone().requires_grad_() for s in start]
    for r, p in zip(ref, params):
        r.grad = p.grad.float()
    torch.optim.Adam(ref, lr=1e-3).step()
    for s, r, m, p in zip(start, ref, opt.master, params):
        assert (m - s).abs().max() > 1e-4  # the step moved the weights
        torch.testing.assert_close(m, r, rtol=0, atol=0)
        torch.testing.assert_close(p, r.to(torch.bfloat16), rtol=0, atol=0)


def test_master_weights_keep_updates_that_bf16_rounds_away():
    w16 = torch.full((4,), 1.0, dtype=torch.bfloat16, requires_grad=True)
    opt = MixedPrecisionAdam([w16], lr=1e-4)  # Adam moves each weight by about lr per step
    plain = w16.detach().clone()
    for _ in range(100):
        w16.grad = torch.ones_like(w16)
        opt.step()
        plain -= 1e-4  # the same step applied to bf16 directly: 1 - 1e-4 rounds back to 1
    assert torch.all(plain == 1.0)
    assert torch.allclose(opt.master[0], torch.full((4,), 1 - 100 * 1e-4), atol=1e-5)
    assert torch.all(w16 < 1.0)  # the master's accumulated change reaches the bf16 weight


def test_unknown_optimizer():
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("lion", [])
