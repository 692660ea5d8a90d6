"""Context parallelism with ring attention: cp4, and cp2 x tp2 with sequence parallelism and dropout,
each on four gloo processes, train like one process; the ring moves K/V exactly cp - 1 times each way."""
from collections import Counter

import pytest
import torch

from dlc_shared.testing import assert_close
from grid import Grid
from launch import launch
from model import Config
from parallel import parallel_run
from train import grad_pairs, reference_run

BATCH, STEPS, LR = 4, 2, 0.5
CFGS = {"cp4": Config(), "cp2-tp2-sp": Config(dropout=0.25)}
GRIDS = {"cp4": Grid(cp=4), "cp2-tp2-sp": Grid(cp=2, tp=2)}


def terms_depth(cfg):
    return BATCH * cfg.block_size, STEPS * (2 * cfg.n_layer + 2)


def no_diagonal_mask(rank, world, *args):
    """Ring attention that forgets the causal triangle on its own chunk: queries see later keys."""
    import ring
    ring.block_mask = lambda q_chunk, kv_chunk, c: "all" if kv_chunk <= q_chunk else "none"
    return parallel_run(rank, world, *args)


@pytest.fixture(scope="module")
def runs():
    out = {k: launch(parallel_run, 4, GRIDS[k], CFGS[k], BATCH, STEPS, LR, k.endswith("sp")) for k in CFGS}
    out["bad"] = launch(no_diagonal_mask, 2, Grid(cp=2), CFGS["cp4"], BATCH, 1, LR)
    return out


@pytest.fixture(scope="module")
def references():
    return {k: reference_run(cfg, BATCH, STEPS, LR) for k, cfg in CFGS.items()}


@pytest.mark.parametrize("name", list(CFGS))
def test_context_parallel_equals_one_process(runs, references, name):
    ref_losses, ref_grads = references[name]
    terms, depth = terms_depth(CFGS[name])
    for res in runs[name]:
        assert_close(torch.tensor(res["losses"]), torch.tensor(ref_losses), torch.float32, terms=terms, depth=depth)
    pairs = grad_pairs(runs[name], ref_grads)
    assert {n for _, n, _, _ in pairs} == set(ref_grads[0])
    for _, _, got, want in pairs:
        assert_close(got, want, torch.float32, terms=terms, depth=depth)


def test_ring_sends_cp_minus_1_chunks_each_way_per_layer(runs):
    cfg = CFGS["cp4"]
    kv_bytes = 2 * BATCH * cfg.n_kv_head * (cfg.block_size // 4) * cfg.head_dim * 4   # K and V of one chunk
    for res in runs["cp4"]:
        assert Counter(c for c in res["comm"][0] if c[0] == "cp") == Counter(
            {("cp", "send", kv_bytes): 2 * (4 - 1) * cfg.n_layer})


def test_a_missing_causal_mask_is_caught(runs, references):
    with pytest.raises(AssertionError):
        terms, depth = terms_depth(CFGS["cp4"])
        for res in runs["bad"]:
            assert_close(torch.tensor(res["losses"][:1]), torch.tensor(references["cp4"][0][:1]), torch.float32,
                         terms=terms, depth=depth)
