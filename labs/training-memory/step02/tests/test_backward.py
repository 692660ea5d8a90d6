"""The hand-written backward against autograd in float64; backward FLOPs against FlopCounterMode."""
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from dlc_shared.testing import assert_close
from mlp import backward_flops, forward_flops, init_mlp, mlp_backward, mlp_forward, mse_loss_grad

SIZES = [12, 32, 24, 5]


def data(batch, sizes, dtype=torch.float64):
    gen = torch.Generator().manual_seed(5)
    return (torch.randn(batch, sizes[0], generator=gen, dtype=dtype),
            torch.randn(batch, sizes[-1], generator=gen, dtype=dtype))


def test_hand_backward_matches_autograd_float64():
    params = init_mlp(SIZES, seed=2, dtype=torch.float64)
    x, target = data(9, SIZES)
    cache = []
    out = mlp_forward(x, params, cache)
    loss, grad_out = mse_loss_grad(out, target)
    loss.backward()  # autograd's gradients land in .grad; ours are computed separately
    with torch.no_grad():
        ours = mlp_backward(grad_out, params, cache)
    for (w, b), (dw, db) in zip(params, ours):
        assert w.grad.abs().max() > 1e-3  # a live gradient, not a dead (all-zero) layer
        # the same products summed in another order: dW sums over the batch rows, through the layers back
        assert_close(dw, w.grad, torch.float64, terms=max(x.shape[0], max(SIZES)), depth=len(params))
        assert_close(db, b.grad, torch.float64, terms=max(x.shape[0], max(SIZES)), depth=len(params))


def test_mse_gradient_against_autograd():
    out, target = data(4, [3, 3])
    out.requires_grad_()
    loss, grad = mse_loss_grad(out, target)
    assert_close(loss, torch.nn.functional.mse_loss(out, target), torch.float64, terms=out.numel())
    loss.backward()
    assert_close(grad, out.grad, torch.float64, depth=2)  # 2 * diff / numel, each side its own order


@pytest.mark.parametrize("batch, sizes", [(7, SIZES), (16, [64, 128, 128, 128, 10])])
def test_backward_flops_counted(batch, sizes):
    params = init_mlp(sizes)
    x, target = data(batch, sizes, torch.float32)
    cache = []
    out = mlp_forward(x, params, cache)
    loss, grad_out = mse_loss_grad(out, target)
    with FlopCounterMode(display=False) as autograd_count:
        loss.backward()
    with torch.no_grad(), FlopCounterMode(display=False) as hand_count:
        mlp_backward(grad_out, params, cache)
    assert autograd_count.get_total_flops() == backward_flops(batch, sizes)
    assert hand_count.get_total_flops() == backward_flops(batch, sizes)
    # roughly twice the forward: exactly 2x minus the first layer's skipped input gradient
    assert 1.5 < backward_flops(batch, sizes) / forward_flops(batch, sizes) <= 2
