"""Mixed-precision SGD against a float64 reference: bfloat16-only weights freeze, fp32 master weights follow float64."""
import torch

from dlc_shared.testing import assert_close
from mixed_precision import (loss_and_grad, make_problem, mse, train_low_precision_only, train_master_weights,
                             train_reference)

LR, STEPS = 2e-3, 1000
HALF_ULP = 2.0 ** -8  # half the bfloat16 spacing 2^-7 of numbers in [1, 2)


def test_bfloat16_gradient_matches_float64_autograd():
    x, y, w = make_problem()
    loss, g = loss_and_grad(w, x, y)
    assert g.dtype == torch.bfloat16
    w64 = w.double().requires_grad_()
    ref_loss = ((x.double() @ w64 - y.double()) ** 2).mean()
    ref_loss.backward()
    # the residual x w - y cancels, so its error follows |x||w| + |y|, not the residual's own size
    scale = ((2.0 / x.shape[0]) * (x.double().abs().T @ (x.double().abs() @ w.double().abs() + y.double().abs()))).max()
    assert_close(g, w64.grad, torch.bfloat16, terms=x.shape[0], depth=2, scale=float(scale))  # forward, then backward
    assert_close(loss, ref_loss.detach(), torch.bfloat16, terms=x.shape[0], depth=2)


def test_updates_smaller_than_half_an_ulp_vanish_without_master_weights():
    x, y, w0 = make_problem()
    _, g = loss_and_grad(w0, x, y)
    assert ((w0.double() >= 1) & (w0.double() < 2)).all()
    assert (LR * g.double().abs()).max() < HALF_ULP  # so every update rounds away
    w = train_low_precision_only(w0, x, y, LR, STEPS)
    assert torch.equal(w, w0)  # exactly: not one bit moved in STEPS steps


def test_master_weights_follow_the_float64_reference():
    x, y, w0 = make_problem()
    w_ref = train_reference(w0, x, y, LR, STEPS)
    w = train_master_weights(w0, x, y, LR, STEPS)
    assert w.dtype == torch.float32
    # each forward sees the master rounded to bfloat16, so the trajectory stays within about one bfloat16
    # rounding of the weights (the descent contracts errors instead of piling them up): terms=1, depth=1
    assert_close(w, w_ref, torch.bfloat16, terms=1, depth=1)
    assert (w_ref - w0.double()).abs().max() > 0.3  # and the reference moved much farther than that bound
    assert mse(w, x, y) < 0.05 * mse(w0, x, y)


def test_float64_reference_update_is_the_autograd_gradient():
    x, y, w0 = make_problem()
    w64 = w0.double().requires_grad_()
    ((x.double() @ w64 - y.double()) ** 2).mean().backward()
    step = train_reference(w0, x, y, LR, 1)
    assert_close(step, w0.double() - LR * w64.grad, torch.float64, terms=x.shape[0], depth=2)


def test_one_bfloat16_add_worked_answer():
    one = torch.tensor(1.0, dtype=torch.bfloat16)
    assert (one + 0.001).item() == 1.0
    assert (one + 2.0 ** -8).item() == 1.0  # a tie rounds to the even neighbour, 1.0
    assert (one + 0.004).item() == 1.0078125


def test_worked_answer_largest_first_update():
    x, y, w0 = make_problem()
    _, g = loss_and_grad(w0, x, y)
    assert round(LR * g.abs().max().item(), 4) == 0.0017  # 0.0039 / 0.0017 -> the third step moves the copy
