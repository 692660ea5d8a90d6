"""Accumulated micro-batch gradients against the big batch's gradient from plain autograd (float64);
peak activation memory per micro-batch and FLOPs measured against the formulas."""
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from dlc_shared.testing import assert_close
from accumulate import accumulate_grads
from block import Config, all_params, init_params, lm_loss, peak_activation_bytes
from memory import SavedTensorMeter

TINY = dict(vocab=64, dim=32, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=48)


def data(cfg, b, t=12):
    gen = torch.Generator().manual_seed(2)
    return torch.randint(0, cfg.vocab, (b, t), generator=gen), torch.randint(0, cfg.vocab, (b, t), generator=gen)


def zero_grads(params):
    for p in all_params(params):
        p.grad = None


@pytest.mark.parametrize("batch, micro_batch, checkpoint", [(6, 3, False), (5, 2, False), (4, 1, False),
                                                           (5, 2, True)])
def test_accumulated_gradient_equals_big_batch_gradient(batch, micro_batch, checkpoint):
    cfg = Config(**TINY, checkpoint=checkpoint)
    params = init_params(cfg, dtype=torch.float64)
    idx, targets = data(cfg, batch)
    big_loss = lm_loss(idx, targets, params, cfg)
    big_loss.backward()  # the reference: one backward over the whole batch
    reference = [p.grad.clone() for p in all_params(params)]
    assert all(g.abs().max() > 0 for g in reference)
    zero_grads(params)
    loss = accumulate_grads(idx, targets, params, cfg, micro_batch)
    # the same per-token terms summed in micro-batch pieces: another summation order over the B·T tokens,
    # through the forward and backward of every layer
    bound = dict(terms=max(batch * 12, cfg.ffn_dim), depth=2 * cfg.n_layers + 2)
    assert_close(loss, big_loss, torch.float64, **bound)
    for p, r in zip(all_params(params), reference):
        assert_close(p.grad, r, torch.float64, **bound)


@pytest.mark.parametrize("batch, micro_batch, checkpoint", [(4, 4, False), (4, 1, False), (5, 2, False),
                                                           (5, 2, True)])
def test_peak_memory_is_one_micro_batch(batch, micro_batch, checkpoint):
    cfg = Config(**TINY, checkpoint=checkpoint)
    params = init_params(cfg)
    idx, targets = data(cfg, batch)
    with SavedTensorMeter(all_params(params)) as meter:
        accumulate_grads(idx, targets, params, cfg, micro_batch)
    assert meter.peak == peak_activation_bytes(cfg, micro_batch, 12, 4)
    assert meter.live == 0


def test_same_flops_as_the_big_batch():
    cfg = Config(**TINY)
    params = init_params(cfg)
    idx, targets = data(cfg, 4)
    with FlopCounterMode(display=False) as big:
        lm_loss(idx, targets, params, cfg).backward()
    with FlopCounterMode(display=False) as small:
        accumulate_grads(idx, targets, params, cfg, 1)
    assert big.get_total_flops() > 0
    assert small.get_total_flops() == big.get_total_flops()


def test_bad_micro_batch():
    cfg = Config(**TINY)
    with pytest.raises(ValueError, match="micro_batch"):
        accumulate_grads(*data(cfg, 2), init_params(cfg), cfg, 0)
