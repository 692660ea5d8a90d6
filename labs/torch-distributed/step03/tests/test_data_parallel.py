"""Data parallelism by hand on 2 gloo ranks: the same losses and gradient norms as one process, step by step."""
import json

import pytest
import torch

from dlc_shared.testing import assert_close
from launch import spawn_ranks
from train import TrainConfig, build, train

STEPS = 4
CFG = TrainConfig(steps=STEPS)


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("dp")
    done = spawn_ranks(["train.py", "--steps", str(STEPS), "--out", str(out)], 2, timeout=90)
    assert all(d.returncode == 0 for d in done), [d.stderr[-2000:] for d in done]
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]


def test_two_ranks_equal_one_process(ranks):
    ref = train(CFG, log=lambda _: None)[1]
    assert len(set(ref["loss"])) == STEPS
    assert ranks[0]["loss"] == ranks[1]["loss"]  # every rank holds the same averaged numbers
    bt = CFG.batch_size * CFG.block_size
    for r in ranks:
        assert_close(r["loss"], ref["loss"], torch.float32, terms=bt, depth=STEPS)
        # A summed instead of averaged gradient would show here as a norm twice the reference.
        assert_close(r["grad_norm"], ref["grad_norm"], torch.float32, terms=bt, depth=STEPS)


def test_one_all_reduce_of_every_gradient_per_step(ranks):
    n = build(CFG)[0].num_params()
    assert ranks[0]["comm_bytes"] == [4 * n] * STEPS  # fp32 gradients, the tied matrix once


def test_each_rank_knows_its_place_and_was_reaped(ranks):
    from pathlib import Path
    info = [r["process"] for r in ranks]
    assert [(i["rank"], i["RANK"], i["world_size"], i["backend"]) for i in info] == [(0, "0", 2, "gloo"),
                                                                                     (1, "1", 2, "gloo")]
    assert not any(Path(f"/proc/{i['pid']}").exists() for i in info)
