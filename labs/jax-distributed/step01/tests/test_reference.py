"""The reference run itself, and that the equality check can see a one-update mistake."""
import math

import pytest

from train import make_train_step, train


def test_reference_trains_from_near_uniform(cfg, reference):
    _, losses = reference
    # Random unit-scale logits cost a little more than ln V at the start (E[CE] ~ ln V + var / 2).
    assert math.log(cfg.vocab_size) < losses[0] < math.log(cfg.vocab_size) + 1.5
    assert len(set(losses)) == len(losses)


def test_the_check_sees_a_missing_update(cfg, optimizer, state0, data, reference, same_training):
    # A missing all-reduce or a skipped step moves the weights by an update's size (about lr);
    # the tolerance must be smaller than that. Stop one step early and the check must fail.
    ref_state, ref_losses = reference
    short, short_losses = train(state0, make_train_step(optimizer, cfg), data[:-1])
    with pytest.raises(AssertionError):
        same_training(short["params"], ref_losses[:-1], ref_state["params"], ref_losses[:-1])
    # ...while the losses it did compute are the reference's, bit for bit (same program, same input)
    assert short_losses == ref_losses[:-1]
