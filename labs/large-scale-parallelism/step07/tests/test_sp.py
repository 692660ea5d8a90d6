"""Sequence parallelism on dp2 x tp2, with dropout: equal to one process; fewer saved activations than TP alone."""
from collections import Counter

import pytest
import torch

from costs import dp_step_collectives, sp_step_collectives
from dlc_shared.testing import assert_close
from grid import Grid
from launch import launch
from model import Config
from parallel import parallel_run
from train import grad_pairs, reference_run

CFG, BATCH, STEPS, LR = Config(dropout=0.25), 8, 2, 0.5
TERMS, DEPTH = BATCH * CFG.block_size, STEPS * (2 * CFG.n_layer + 2)


def no_norm_sync(rank, world, *args):
    """SP without the all-reduce of the norm weights' gradients over TP (each rank saw T/t positions)."""
    import parallel
    original = parallel.tp_ops.all_reduce

    def skip_tp(x, group, op=None, tag="tp"):
        return x if (tag == "tp" and x.dim() == 1 and x.numel() == CFG.n_embd) else original(x, group, tag=tag)
    parallel.tp_ops.all_reduce = skip_tp
    return parallel_run(rank, world, *args)


@pytest.fixture(scope="module")
def reference():
    return reference_run(CFG, BATCH, STEPS, LR)


@pytest.fixture(scope="module")
def runs():
    grid = Grid(dp=2, tp=2)
    args = (grid, CFG, BATCH, STEPS, LR)
    return (launch(parallel_run, 4, *args, True), launch(parallel_run, 4, *args, False),
            launch(no_norm_sync, 2, Grid(tp=2), CFG, BATCH, 1, LR, True))


def test_dropout_is_on_in_the_reference(reference):
    from model import LanguageModel, batch
    m = LanguageModel(CFG)
    idx, targets = batch(CFG, BATCH)
    assert m(idx, targets)[1].item() != m(idx, targets)[1].item()   # a new mask every call


@pytest.mark.parametrize("which", [0, 1], ids=["sp", "tp-only"])
def test_equal_to_one_process(runs, reference, which):
    results = runs[which]
    for res in results:
        assert_close(torch.tensor(res["losses"]), torch.tensor(reference[0]), torch.float32, terms=TERMS, depth=DEPTH)
    pairs = grad_pairs(results, reference[1])
    assert {name for _, name, _, _ in pairs} == set(reference[1][0])
    for _, name, got, want in pairs:
        assert_close(got, want, torch.float32, terms=TERMS, depth=DEPTH)


def test_missing_norm_gradient_sync_is_caught(runs, reference):
    with pytest.raises(AssertionError):
        for _, name, got, want in grad_pairs(runs[2], reference[1]):
            assert_close(got, want, torch.float32, terms=TERMS, depth=DEPTH)


def test_sp_swaps_all_reduces_for_gathers_and_scatters(runs):
    sp, tp_only, _ = runs
    for res in sp:
        numels = [g.numel() for _, g in res["grads"][0].values()]
        assert Counter(res["comm"][0]) == sp_step_collectives(CFG, BATCH // 2, 2) + dp_step_collectives(numels, 2)
    assert sp[0]["saved_bytes"][0] < tp_only[0]["saved_bytes"][0]
