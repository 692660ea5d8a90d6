"""Gradient and optimizer-state memory measured on torch.optim against the per-parameter formulas;
the mixed-precision update against Adam written out by hand in float64 NumPy."""
import numpy as np
import pytest
import torch

from dlc_shared.testing import assert_close
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


def test_sixteen_bytes_per_parameter_measured():
    for name in ("adam", "mixed-adam"):
        params, opt = train_one_step(name)
        n = sum(p.numel() for p in params)
        step_counters = 4 * len(params)  # Adam's one 4-byte step count per tensor, not per parameter
        assert sum(measured_bytes(params, opt).values()) - step_counters == 16 * n


def numpy_adam(w, m, v, g, t, lr, betas, eps, weight_decay):
    """One Adam step (Kingma & Ba, Algorithm 1) in float64, with torch's L2 weight decay: g + wd * w."""
    b1, b2 = betas
    g = g + weight_decay * w
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)  # bias correction: m and v start at 0
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def test_mixed_precision_update_against_adam_by_hand():
    steps, lr = 5, 1e-2
    dtype = torch.bfloat16
    layers = init_mlp(SIZES, dtype=dtype)
    params = [p for wb in layers for p in wb]
    opt = MixedPrecisionAdam(params, lr=lr)
    group = opt.adam.param_groups[0]  # the settings the optimizer runs with (torch's defaults for the rest)
    assert not group["amsgrad"] and not group["maximize"]
    settings = dict(lr=group["lr"], betas=group["betas"], eps=group["eps"], weight_decay=group["weight_decay"])
    assert settings["lr"] == lr
    # the reference: a float64 master copy of the same starting weights, and Adam's m and v at zero
    w = [p.detach().double().numpy() for p in params]
    m, v = [np.zeros_like(x) for x in w], [np.zeros_like(x) for x in w]
    start = [x.copy() for x in w]
    gen = torch.Generator().manual_seed(0)
    for t in range(1, steps + 1):
        x, target = torch.randn(4, SIZES[0], generator=gen), torch.randn(4, SIZES[-1], generator=gen)
        loss, _ = mse_loss_grad(mlp_forward(x.to(dtype), layers), target.to(dtype))
        opt.zero_grad()
        loss.backward()  # bf16 gradients of the bf16 model
        grads = [p.grad.double().numpy() for p in params]
        opt.step()
        for i, g in enumerate(grads):
            w[i], m[i], v[i] = numpy_adam(w[i], m[i], v[i], g, t, **settings)
        for master, p, ref in zip(opt.master, params, w):
            assert master.dtype == torch.float32
            # each fp32 step rounds the new weight once (eps |w|) and the update by a few eps of lr,
            # which is much smaller than |w|: t chained steps of one rounding each
            assert_close(master, ref, torch.float32, depth=t)
            assert torch.equal(p, master.to(torch.bfloat16))  # the model copy is the master rounded to bf16
    moved = max(np.abs(a - b).max() for a, b in zip(w, start))
    assert moved > 0.5 * steps * lr  # Adam moves a weight by about lr per step: the comparison is live


def test_master_weights_keep_updates_that_bf16_rounds_away():
    w16 = torch.full((4,), 1.0, dtype=torch.bfloat16, requires_grad=True)
    opt = MixedPrecisionAdam([w16], lr=1e-4)  # Adam moves each weight by about lr per step
    plain = w16.detach().clone()
    for _ in range(100):
        w16.grad = torch.ones_like(w16)
        opt.step()
        plain -= 1e-4  # the same step applied to bf16 directly: 1 - 1e-4 rounds back to 1
    assert torch.all(plain == 1.0)
    # a constant gradient makes m_hat / sqrt(v_hat) = 1, so each step subtracts lr; 100 fp32 steps of rounding
    assert_close(opt.master[0], torch.full((4,), 1 - 100 * 1e-4, dtype=torch.float64), torch.float32, depth=100)
    assert torch.all(w16 < 1.0)  # the master's accumulated change reaches the bf16 weight


def test_unknown_optimizer():
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("lion", [])
