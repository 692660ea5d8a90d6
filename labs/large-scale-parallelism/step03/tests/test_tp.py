"""dp2 x tp2 (four gloo processes) trains like one process: losses and every gradient piece, three SGD steps."""
import pytest
import torch

from dlc_shared.testing import assert_close
from grid import Grid
from launch import launch
from model import Config
from parallel import parallel_run
from train import grad_pairs, reference_run

CFG, BATCH, STEPS, LR = Config(), 8, 2, 0.5
TOKENS = BATCH * CFG.block_size
# Rounding only: the longest sums run over the batch's tokens (a weight gradient) and the
# vocabulary (the loss); each step chains the layers' forward and backward.
TERMS, DEPTH = TOKENS, STEPS * (2 * CFG.n_layer + 2)


def broken_run(rank, world, *args):
    """The same run with the backward all-reduce of copy_to_tp left out (a classic TP bug)."""
    import tp
    tp.CopyToTP.backward = staticmethod(lambda ctx, grad: (grad, None))
    return parallel_run(rank, world, *args)


@pytest.fixture(scope="module")
def reference():
    return reference_run(CFG, BATCH, STEPS, LR)


@pytest.fixture(scope="module")
def runs():
    grid = Grid(dp=2, tp=2)
    return launch(parallel_run, 4, grid, CFG, BATCH, STEPS, LR), launch(broken_run, 2, Grid(tp=2), CFG, BATCH, 1, LR)


def test_reference_is_not_trivial(reference):
    losses, grads = reference
    assert len({round(x, 4) for x in losses}) == STEPS     # the loss moves
    assert grads[0]["lm_head.weight"].abs().max() > 0


def test_losses_equal_one_process(runs, reference):
    good, _ = runs
    for res in good:
        assert_close(torch.tensor(res["losses"]), torch.tensor(reference[0]), torch.float32, terms=TERMS, depth=DEPTH)


def test_every_gradient_piece_equals_one_process(runs, reference):
    good, _ = runs
    pairs = grad_pairs(good, reference[1])
    assert {name for _, name, _, _ in pairs} == set(reference[1][0])      # every weight is checked
    for step, name, got, want in pairs:
        assert got.shape == want.shape
        assert_close(got, want, torch.float32, terms=TERMS, depth=DEPTH)


def test_a_missing_backward_all_reduce_is_caught(runs, reference):
    _, bad = runs
    with pytest.raises(AssertionError):
        for step, name, got, want in grad_pairs(bad, reference[1]):
            assert_close(got, want, torch.float32, terms=TERMS, depth=DEPTH)


def test_collectives_match_the_formula(runs):
    from collections import Counter

    from costs import dp_step_collectives, tp_step_collectives
    good, _ = runs
    for res in good:
        numels = [g.numel() for _, g in res["grads"][0].values()]
        expected = tp_step_collectives(CFG, BATCH // 2, 2) + dp_step_collectives(numels, 2)
        assert Counter(res["comm"][0]) == expected
