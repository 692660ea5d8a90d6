"""Gradient accumulation: k micro-batches of b sequences give the update of one batch of k*b."""
import torch

from data import get_batch, load_split
from dlc_shared.testing import assert_close, tolerance
from loss import next_token_loss
from model import Llama, ModelConfig
from train import TrainConfig, train

TINY = ModelConfig(vocab_size=2048, block_size=16, n_layer=1, n_head=2, n_kv_head=1, d_model=32, d_ff=64)


def test_micro_batches_draw_the_same_windows_as_one_big_batch():
    data = load_split("val", 2048)
    big = get_batch(data, 8, 16, torch.Generator().manual_seed(3))[0]
    g = torch.Generator().manual_seed(3)
    small = torch.cat([get_batch(data, 2, 16, g)[0] for _ in range(4)])
    assert torch.equal(big, small)  # so the runs below see exactly the same tokens


def test_scaled_micro_batch_gradients_sum_to_the_big_batch_gradient():
    torch.manual_seed(0)
    model = Llama(TINY).double()
    idx = torch.randint(2048, (8, 17))
    next_token_loss(model(idx[:, :-1]), idx[:, 1:]).backward()
    big = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    for part in idx.chunk(4):
        (next_token_loss(model(part[:, :-1]), part[:, 1:]) / 4).backward()
    for a, b in zip(big, (p.grad for p in model.parameters())):
        # float64; a weight's gradient sums over the B*T = 128 positions, in 4 parts or in one.
        assert_close(b, a, torch.float64, terms=128, depth=2)


def test_training_with_accumulation_equals_the_big_batch_run():
    def run(batch_size, grad_accum):
        cfg = TrainConfig(steps=4, batch_size=batch_size, grad_accum=grad_accum, block_size=16, lr=1e-2,
                          warmup_steps=1, min_lr=1e-3, log_interval=1000, eval_batches=1, eval_interval=1000)
        return train(cfg, TINY, log=lambda _: None)
    big_model, big = run(8, 1)
    acc_model, acc = run(2, 4)
    # fp32 sums over B*T = 128 positions in another order, 4 steps chained; the loss is its own scale.
    assert_close(acc["loss"], big["loss"], torch.float32, terms=128, depth=4)
    assert_close(acc["val_loss"], big["val_loss"], torch.float32, terms=128, depth=4)  # same val windows
    # Not a rounding bound: Adam divides by sqrt(v), so a gradient entry near 0 whose last bits
    # differ can move its weight by a large part of one update (at t = 1 the update is lr * sign(g)).
    # Allow 1% of one update per step: lr = 1e-2, 4 steps.
    for a, b in zip(acc_model.parameters(), big_model.parameters()):
        assert (a - b).abs().max() <= 0.01 * 1e-2 * 4
    _, small = run(2, 1)  # the same micro-batch without accumulation is a different run
    tol = tolerance(torch.float32, big["loss"][-1], terms=128, depth=4)
    assert abs(small["loss"][-1] - big["loss"][-1]) > 10 * tol  # far more than rounding
