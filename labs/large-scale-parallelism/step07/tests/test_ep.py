"""Expert parallelism: dp4 = ep4 (four gloo processes), 8 experts, top-2, capacity factor 1: equal to one
process whose MoE routes the same four groups; dropped assignments counted exactly; all-to-all bytes."""
from collections import Counter

import pytest
import torch

from dlc_shared.testing import assert_close
from grid import Grid
from launch import launch
from model import Config, LanguageModel, MoE, batch, capacity
from parallel import parallel_run
from train import grad_pairs, reference_run

EP, BATCH, STEPS, LR = 4, 8, 2, 0.5
CFG = Config(n_expert=8, top_k=2, capacity_factor=1.0, moe_groups=(EP, 1))
TERMS, DEPTH = BATCH * CFG.block_size, STEPS * (2 * CFG.n_layer + 2)


def experts_averaged_over_dp(rank, world, *args):
    """The classic EP bug: treating expert weights like the rest and all-reducing them over dp."""
    import parallel
    original = parallel.ParallelLM.sync_grads

    def sync_everything(self):
        for p in self.parameters():
            p.expert = False
        original(self)
    parallel.ParallelLM.sync_grads = sync_everything
    return parallel_run(rank, world, *args)


@pytest.fixture(scope="module")
def reference():
    return reference_run(CFG, BATCH, STEPS, LR)


@pytest.fixture(scope="module")
def runs():
    grid = Grid(dp=EP)
    return launch(parallel_run, EP, grid, CFG, BATCH, STEPS, LR), \
        launch(experts_averaged_over_dp, EP, grid, CFG, BATCH, 1, LR)


def test_the_router_spreads_tokens_and_drops_some():
    model = LanguageModel(CFG)
    idx, targets = batch(CFG, BATCH)
    model(idx, targets)
    moes = [m for m in model.modules() if isinstance(m, MoE)]
    assert len(moes) == CFG.n_layer and all(m.dropped[0] > 0 for m in moes)


def test_expert_parallel_equals_one_process(runs, reference):
    good, _ = runs
    for res in good:
        assert_close(torch.tensor(res["losses"]), torch.tensor(reference[0]), torch.float32, terms=TERMS, depth=DEPTH)
    pairs = grad_pairs(good, reference[1])
    assert {n for _, n, _, _ in pairs} == set(reference[1][0])
    for _, _, got, want in pairs:
        assert_close(got, want, torch.float32, terms=TERMS, depth=DEPTH)


def test_dropped_assignments_equal_one_process(runs):
    good, _ = runs
    model = LanguageModel(CFG)
    idx, targets = batch(CFG, BATCH)
    model(idx, targets)
    expected = sum(m.dropped[0] for m in model.modules() if isinstance(m, MoE))
    assert sum(res["dropped"][0] for res in good) == expected > 0


def test_all_to_all_bytes(runs):
    good, _ = runs
    tokens = BATCH // EP * CFG.block_size
    buffer = CFG.n_expert * capacity(tokens, CFG) * CFG.n_embd * 4      # (E, capacity, D) floats
    assert capacity(tokens, CFG) == 8                                    # ceil(1.0 * 32 * 2 / 8)
    for res in good:
        # Per MoE layer: dispatch and combine forward, and the same two backward.
        assert Counter(c for c in res["comm"][0] if c[0] == "ep") == Counter({("ep", "all_to_all", buffer): 4 * CFG.n_layer})


def test_averaging_expert_gradients_over_dp_is_caught(runs, reference):
    _, bad = runs
    with pytest.raises(AssertionError):
        for _, _, got, want in grad_pairs(bad, reference[1]):
            assert_close(got, want, torch.float32, terms=TERMS, depth=DEPTH)
