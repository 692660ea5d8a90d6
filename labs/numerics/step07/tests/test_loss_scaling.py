"""Dynamic loss scaling: the scale trajectory by hand, injected overflows, float64 gradients, and torch.amp.GradScaler."""
import torch

from dlc_shared.testing import assert_close
from loss_scaling import DynamicLossScaler, make_fp16_problem, scaled_grad, train_fp16


def test_scale_trajectory_with_injected_overflows_by_hand():
    x, y, w0 = make_fp16_problem()
    scaler = DynamicLossScaler(init_scale=2.0 ** 16, growth_interval=4)
    _, history = train_fp16(w0, x, y, lr=0.5, steps=20, scaler=scaler, inject=frozenset({3, 4, 10}))
    e = [16, 16, 16, 16, 15, 14, 14, 14, 14, 15, 15, 14, 14, 14, 14, 15, 15, 15, 15, 16]
    assert [s for s, _ in history] == [2.0 ** k for k in e]
    assert [i for i, (_, bad) in enumerate(history) if bad] == [3, 4, 10]
    assert scaler.scale == 2.0 ** 16 and scaler.good_steps == 1


def test_skipped_steps_leave_the_master_weights_alone():
    x, y, w0 = make_fp16_problem()
    every = frozenset(range(5))
    master, history = train_fp16(w0, x, y, lr=0.5, steps=5, scaler=DynamicLossScaler(), inject=every)
    assert torch.equal(master, w0.float()) and all(bad for _, bad in history)
    assert history[-1][0] == 2.0 ** 16 * 0.5 ** 4


def test_scaling_rescues_the_float16_backward():
    x, y, w0 = make_fp16_problem()
    r = (x * w0).sum(dim=-1) - y  # the float16 residual both sides start from: the backward is what is compared
    ref = (2.0 / x.shape[0]) * (x.double().T @ r.double())
    scale = float(((2.0 / x.shape[0]) * (x.double().abs().T @ r.double().abs())).max())
    # scaled, then unscaled: float16's relative error on every stage (the per-sample gradient, the product), n terms
    g = scaled_grad(w0, x, y, 2.0 ** 16).double() / 2.0 ** 16
    assert_close(g, ref, torch.float16, terms=x.shape[0], depth=2, scale=scale)
    # scaled, every nonzero per-sample gradient is a normal float16 number (full relative precision);
    # unscaled, over half of them flush to zero, and those terms are lost from the sum entirely
    tiny = torch.finfo(torch.float16).smallest_normal
    scaled_up, plain_up = r * (2.0 * 2 ** 16 / x.shape[0]), r * (2.0 / x.shape[0])
    assert ((scaled_up.abs() >= tiny) | (r == 0)).all()
    assert ((plain_up == 0) & (r != 0)).float().mean() > 0.5
    err = (scaled_grad(w0, x, y, 1.0).double() - ref).abs().max()
    assert err > 10 * (g - ref).abs().max()


def test_too_large_a_scale_overflows_and_is_detected():
    x, y, w0 = make_fp16_problem()
    g = scaled_grad(w0, x, y, 2.0 ** 40)
    assert DynamicLossScaler().found_overflow([g])
    assert not DynamicLossScaler().found_overflow([scaled_grad(w0, x, y, 2.0 ** 16)])


def train_with_grad_scaler(w0, x, y, lr, steps, inject, **kwargs):
    """The same loop driven by PyTorch's GradScaler (device 'cpu'): the independent reference."""
    scaler = torch.amp.GradScaler("cpu", **kwargs)
    master = torch.nn.Parameter(w0.float())
    opt = torch.optim.SGD([master], lr=lr)
    scales = []
    for step in range(steps):
        scale = scaler.scale(torch.ones(())).item()  # scaling a loss of 1 reads the current scale
        scales.append(scale)
        g = scaled_grad(master.detach().to(x.dtype), x, y, scale)
        if step in inject:
            g[0] = float("inf")
        master.grad = g.float()
        scaler.step(opt)  # unscales, skips the step if any gradient is inf/NaN
        scaler.update()
    return master.detach(), scales


def test_matches_torch_grad_scaler_step_for_step():
    x, y, w0 = make_fp16_problem()
    for init, inject in ((2.0 ** 16, frozenset({2, 3, 9})), (2.0 ** 32, frozenset({9}))):
        mine, history = train_fp16(w0, x, y, lr=0.5, steps=16, inject=inject,
                                   scaler=DynamicLossScaler(init_scale=init, growth_interval=4))
        theirs, scales = train_with_grad_scaler(w0, x, y, 0.5, 16, inject, init_scale=init, growth_interval=4)
        assert [s for s, _ in history] == scales
        assert torch.equal(mine, theirs)  # power-of-two unscaling is exact, and the SGD step is the same op


def test_grad_scaler_defaults_are_ours():
    ours, theirs = DynamicLossScaler(), torch.amp.GradScaler("cpu")
    assert (ours.scale, ours.growth_factor, ours.backoff_factor, ours.growth_interval) == (
        theirs.get_scale(), theirs.get_growth_factor(), theirs.get_backoff_factor(), theirs.get_growth_interval())


def test_worked_answer_one_per_sample_gradient():
    r = torch.tensor(1e-5, dtype=torch.float16)
    assert (r * (2.0 / 1024)).item() == 0.0  # 1.95e-8 < 2^-25, half the smallest subnormal
    scaled = (r * (2.0 * 2 ** 16 / 1024)).item()
    assert scaled >= torch.finfo(torch.float16).smallest_normal and abs(scaled - 1.28e-3) < 1e-5
