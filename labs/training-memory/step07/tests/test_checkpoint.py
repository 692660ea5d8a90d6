"""Hand-written checkpointing: gradients equal plain autograd and torch.utils.checkpoint;
memory (forward and peak) and the extra compute measured against the formulas."""
import pytest
import torch
import torch.utils.checkpoint
from torch.utils.flop_counter import FlopCounterMode

from dlc_shared.testing import assert_close
import block as block_module
from block import Config, all_params, init_params, lm_loss, model_activation_bytes, peak_activation_bytes
from memory import SavedTensorMeter

TINY = dict(vocab=64, dim=32, n_layers=3, n_heads=4, n_kv_heads=2, ffn_dim=48)


def batch(cfg, b=2, t=16):
    gen = torch.Generator().manual_seed(1)
    # two separate tensors: views of one storage would be held as one buffer until the end
    return torch.randint(0, cfg.vocab, (b, t), generator=gen), torch.randint(0, cfg.vocab, (b, t), generator=gen)


def grads(cfg, params, idx, targets):
    for p in all_params(params):
        p.grad = None
    lm_loss(idx, targets, params, cfg).backward()
    return [p.grad.clone() for p in all_params(params)]


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
def test_checkpointed_gradients_equal_plain_and_torch_checkpoint(attention, monkeypatch):
    plain = Config(**TINY, attention=attention)
    params = init_params(plain, dtype=torch.float64)
    idx, targets = batch(plain)
    reference = grads(plain, params, idx, targets)
    assert all(g.abs().max() > 0 for g in reference)  # every parameter gets a gradient
    ours = grads(Config(**TINY, attention=attention, checkpoint=True), params, idx, targets)
    # torch's own checkpoint in place of ours: the same model code, a different implementation
    monkeypatch.setattr(block_module, "checkpoint", lambda fn, x, ps: torch.utils.checkpoint.checkpoint(
        fn, x, use_reentrant=False))
    theirs = grads(Config(**TINY, attention=attention, checkpoint=True), params, idx, targets)
    # recomputation repeats the same float64 ops; the bound allows another summation order through the
    # forward and backward of every layer (weight gradients sum over B·T = 32 rows, the FFN over its width)
    bound = dict(terms=max(2 * 16, plain.ffn_dim), depth=2 * plain.n_layers + 2)
    for r, o, t in zip(reference, ours, theirs):
        assert_close(o, r, torch.float64, **bound)
        assert_close(t, r, torch.float64, **bound)


@pytest.mark.parametrize("checkpoint", [False, True])
@pytest.mark.parametrize("attention", ["eager", "sdpa"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_forward_and_peak_memory_match_formulas(checkpoint, attention, dtype):
    cfg = Config(**TINY, attention=attention, checkpoint=checkpoint)
    params = init_params(cfg, dtype=dtype)
    idx, targets = batch(cfg, 3, 20)
    itemsize = torch.finfo(dtype).bits // 8
    with SavedTensorMeter(all_params(params)) as meter:
        loss = lm_loss(idx, targets, params, cfg)
        end_of_forward = meter.live
        loss.backward()
    assert end_of_forward == model_activation_bytes(cfg, 3, 20, itemsize)
    assert meter.peak == peak_activation_bytes(cfg, 3, 20, itemsize)
    assert meter.live == 0  # backward released everything it saved


def test_checkpointing_lowers_the_peak():
    on, off = (Config(**{**TINY, "n_layers": 6}, checkpoint=c) for c in (True, False))
    assert peak_activation_bytes(on, 2, 64, 4) < peak_activation_bytes(off, 2, 64, 4) / 2


def test_extra_compute_is_one_more_forward_of_the_blocks():
    counts = {}
    for checkpoint in (False, True):
        cfg = Config(**TINY, checkpoint=checkpoint)
        params = init_params(cfg)
        idx, targets = batch(cfg)
        with FlopCounterMode(display=False) as counter:
            lm_loss(idx, targets, params, cfg).backward()
        counts[checkpoint] = counter.get_total_flops()
    # one forward of the blocks alone, counted separately
    cfg = Config(**TINY)
    params = init_params(cfg)
    x = torch.randn(2, 16, cfg.dim)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        for p in params["layers"]:
            x = block_module.block(x, p, cfg)
    assert counter.get_total_flops() > 0
    assert counts[True] - counts[False] == counter.get_total_flops()
