"""FSDP2 on 2 gloo ranks: the losses of one process, and each rank storing only its rows (1/k of 16 bytes
per parameter); then a crash under torchrun --max-restarts resumed from the gathered checkpoint."""
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
    out = tmp_path_factory.mktemp("fsdp")
    done = spawn_ranks(["train.py", "--steps", str(STEPS), "--ckpt-path", str(out / "ckpt.pt"), "--out", str(out)],
                       2, timeout=90)
    assert all(d.returncode == 0 for d in done), [d.stderr[-2000:] for d in done]
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)] + [out / "ckpt.pt"]


def test_fsdp_equals_one_process(ranks):
    ranks = ranks[:2]
    ref = train(CFG, log=lambda _: None)[1]
    assert len(set(ref["loss"])) == STEPS
    assert ranks[0]["loss"] == ranks[1]["loss"]
    bt = CFG.batch_size * CFG.block_size
    for r in ranks:
        assert_close(r["loss"], ref["loss"], torch.float32, terms=bt, depth=STEPS)
        assert_close(r["grad_norm"], ref["grad_norm"], torch.float32, terms=bt, depth=STEPS)


def test_each_rank_stores_its_rows_only(ranks):
    model = build(CFG)[0]
    n = model.num_params()
    # fully_shard splits dim 0 like torch.chunk: rank r gets chunk r of every parameter's rows.
    expected = [sum(torch.chunk(p.detach(), 2)[r].numel() if len(torch.chunk(p.detach(), 2)) > r else 0
                    for p in model.parameters()) * 4 for r in range(2)]
    assert [r["param_bytes"] for r in ranks[:2]] == expected
    assert sum(expected) == 4 * n  # together exactly one copy of the model
    assert [r["optimizer_bytes"] for r in ranks[:2]] == [2 * b for b in expected]  # AdamW's m and v, same rows


def test_the_gathered_checkpoint_is_a_whole_model(ranks, tmp_path):
    """Rank 0's file holds full tensors: one process loads it and continues as if it had trained alone."""
    state = torch.load(ranks[2], weights_only=True)
    ref_model, ref = train(TrainConfig(steps=STEPS, ckpt_path=str(tmp_path / "alone.pt")), log=lambda _: None)
    assert state["step"] == STEPS
    for name, want in ref_model.state_dict().items():
        # the same weights after STEPS AdamW steps, up to the rounding of the averaged gradients
        assert_close(state["model"][name], want, torch.float32, terms=CFG.batch_size * CFG.block_size,
                     depth=STEPS, scale=want.abs().max().item())
    assert set(state["optimizer"]["state"]) == set(ref_model.state_dict()) - {"lm_head.weight"}  # by name, tied once
    (tmp_path / "fsdp.pt").write_bytes(ranks[2].read_bytes())
    # One process continues the 2-rank FSDP run for 2 more steps, and continues its own run the same way.
    resumed = train(TrainConfig(steps=STEPS + 2, ckpt_path=str(tmp_path / "fsdp.pt")), log=lambda _: None)[1]
    alone = train(TrainConfig(steps=STEPS + 2, ckpt_path=str(tmp_path / "alone.pt")), log=lambda _: None)[1]
    assert len(resumed["loss"]) == STEPS + 2
    assert_close(resumed["loss"], alone["loss"], torch.float32, terms=CFG.batch_size * CFG.block_size,
                 depth=STEPS + 2)
