"""DDP on 2 gloo ranks: the same losses and gradient norms as one process, its gradients in several buckets."""
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
    out = tmp_path_factory.mktemp("ddp")
    done = spawn_ranks(["train.py", "--steps", str(STEPS), "--out", str(out)], 2, timeout=90)
    assert all(d.returncode == 0 for d in done), [d.stderr[-2000:] for d in done]
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]


def test_ddp_equals_one_process(ranks):
    ref = train(CFG, log=lambda _: None)[1]
    assert len(set(ref["loss"])) == STEPS
    assert ranks[0]["loss"] == ranks[1]["loss"]
    bt = CFG.batch_size * CFG.block_size
    for r in ranks:
        assert_close(r["loss"], ref["loss"], torch.float32, terms=bt, depth=STEPS)
        assert_close(r["grad_norm"], ref["grad_norm"], torch.float32, terms=bt, depth=STEPS)


def test_gradients_travel_in_buckets_that_add_up_to_the_model(ranks):
    model = build(CFG)[0]
    n, biggest = model.num_params(), max(p.numel() for p in model.parameters())
    cap = int(CFG.bucket_mb * 2**20)
    for step, buckets in enumerate(ranks[0]["buckets"]):
        assert sum(buckets) == 4 * n  # every fp32 gradient once per step, the tied matrix once
        if step == 0:
            assert buckets == [4 * n]  # the first backward: one bucket, while DDP learns the gradient order
        else:
            # Then DDP rebuilds its buckets in the order the gradients became ready, each closed once it
            # reaches the cap: several buckets, none over the cap plus one tensor (the embedding here).
            assert len(buckets) > 1 and all(b <= cap + 4 * biggest for b in buckets)
    assert ranks[0]["comm_bytes"] == [4 * n] * STEPS


def test_each_rank_knows_its_place_and_was_reaped(ranks):
    from pathlib import Path
    info = [r["process"] for r in ranks]
    assert [(i["rank"], i["RANK"], i["world_size"], i["backend"]) for i in info] == [(0, "0", 2, "gloo"),
                                                                                     (1, "1", 2, "gloo")]
    assert not any(Path(f"/proc/{i['pid']}").exists() for i in info)
