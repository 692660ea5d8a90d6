"""dp2 x pp2 (four gloo processes), AFAB and 1F1B with four micro-batches and dropout: equal to one process,
ops in schedule order."""
from collections import Counter

import pytest
import torch

from dlc_shared.testing import assert_close
from grid import Grid
from launch import launch
from model import Config
from pipeline import pipeline_run
from schedule import SCHEDULES
from train import grad_pairs, reference_run

CFG, BATCH, STEPS, LR, M = Config(dropout=0.25), 8, 2, 0.5, 4
TERMS, DEPTH = BATCH * CFG.block_size, STEPS * (2 * CFG.n_layer + 2)


def both_schedules(rank, world, grid):
    return {name: pipeline_run(rank, world, grid, CFG, BATCH, STEPS, LR, name, M) for name in SCHEDULES}


def backward_without_send(rank, world, grid):
    """A stage that forgets to send its input gradient back: the stage before gets zeros instead."""
    import pipeline
    original = pipeline.send

    def drop_grads(x, dst, handles):
        return original(torch.zeros_like(x) if dst < rank else x, dst, handles)
    pipeline.send = drop_grads
    return pipeline_run(rank, world, grid, CFG, BATCH, 1, LR, "1f1b", M)


@pytest.fixture(scope="module")
def reference():
    return reference_run(CFG, BATCH, STEPS, LR)


@pytest.fixture(scope="module")
def runs():
    grid = Grid(dp=2, pp=2)
    return grid, launch(both_schedules, 4, grid), launch(backward_without_send, 2, Grid(pp=2))


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_pipeline_equals_one_process(runs, reference, name):
    grid, good, _ = runs
    results = [r[name] for r in good]
    last = [res for res in results if res["losses"][0] is not None]
    assert len(last) == 2                                   # the last stage of each dp replica
    for res in last:
        assert_close(torch.tensor(res["losses"]), torch.tensor(reference[0]), torch.float32, terms=TERMS, depth=DEPTH)
    pairs = grad_pairs(results, reference[1])
    assert {name for _, name, _, _ in pairs} == set(reference[1][0])   # the stages hold every weight between them
    for _, _, got, want in pairs:
        assert_close(got, want, torch.float32, terms=TERMS, depth=DEPTH)


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_ops_ran_in_schedule_order_and_sends_are_counted(runs, name):
    grid, good, _ = runs
    for rank, r in enumerate(good):
        stage = grid.coords(rank)["pp"]
        assert r[name]["ops"][0] == SCHEDULES[name](2, M, stage)
        sends = Counter(c for c in r[name]["comm"][0] if c[0] == "pp")
        act = (BATCH // 2 // M) * CFG.block_size * CFG.n_embd * 4
        assert sends == Counter({("pp", "send", act): M})    # activations forward, or gradients back


def test_a_lost_gradient_is_caught(runs, reference):
    with pytest.raises(AssertionError):
        for _, _, got, want in grad_pairs(runs[2], reference[1]):
            assert_close(got, want, torch.float32, terms=TERMS, depth=DEPTH)
