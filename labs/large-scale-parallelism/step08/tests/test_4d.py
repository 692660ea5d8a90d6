"""Everything on one grid of eight gloo processes, 1F1B with two micro-batches, equal to one process:
dp2 x pp2 x tp2 with MoE layers (experts over dp), and pp2 x cp2 x tp2 with sequence parallelism and dropout."""
import pytest
import torch

from dlc_shared.testing import assert_close
from grid import Grid
from launch import launch
from model import Config
from pipeline import pipeline_run
from plan import rank_params
from train import grad_pairs, reference_run

BATCH, STEPS, LR, M = 8, 2, 0.5, 2
LAYOUTS = {
    "dp2-pp2-tp2-ep2": (Grid(dp=2, pp=2, tp=2), Config(n_expert=4, moe_groups=(2 * M, 1)), False),
    "pp2-cp2-tp2-sp": (Grid(pp=2, cp=2, tp=2), Config(dropout=0.25), True),
}


@pytest.fixture(scope="module", params=list(LAYOUTS))
def layout(request):
    grid, cfg, sp = LAYOUTS[request.param]
    results = launch(pipeline_run, 8, grid, cfg, BATCH, STEPS, LR, "1f1b", M, sp)
    return grid, cfg, results, reference_run(cfg, BATCH, STEPS, LR)


def test_4d_equals_one_process(layout):
    grid, cfg, results, (ref_losses, ref_grads) = layout
    terms, depth = BATCH * cfg.block_size, STEPS * (2 * cfg.n_layer + 2)
    last = [r for r in results if r["losses"][0] is not None]
    assert len(last) == grid.size // grid.pp                      # every rank of the last stage knows the loss
    for res in last:
        assert_close(torch.tensor(res["losses"]), torch.tensor(ref_losses), torch.float32, terms=terms, depth=depth)
    pairs = grad_pairs(results, ref_grads)
    assert {n for _, n, _, _ in pairs} == set(ref_grads[0])
    for _, _, got, want in pairs:
        assert_close(got, want, torch.float32, terms=terms, depth=depth)


def test_parameters_per_rank_match_the_formula(layout):
    grid, cfg, results, _ = layout
    for rank, res in enumerate(results):
        assert sum(g.numel() for _, g in res["grads"][0].values()) == rank_params(cfg, grid, rank)
