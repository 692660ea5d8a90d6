"""One torchrun launch of 2 ranks: what each was told, and that each trained alone on its own rows."""
import json
import os
from pathlib import Path

import pytest
import torch

from dlc_shared.testing import assert_close
from launch import free_port, run_all, torchrun_cmd
from train import TrainConfig, train

STEPS = 3
CFG = TrainConfig(steps=STEPS)


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("ranks")
    port = free_port()
    (done,) = run_all([torchrun_cmd(["train.py", "--steps", str(STEPS), "--out", str(out)], 2, port)], timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)], port


def test_each_rank_knows_its_place(ranks):
    info = [r["process"] for r in ranks[0]]
    assert [(i["rank"], i["RANK"], i["LOCAL_RANK"]) for i in info] == [(0, "0", "0"), (1, "1", "1")]
    assert {i["WORLD_SIZE"] for i in info} == {"2"} and {i["world_size"] for i in info} == {2}
    assert {i["backend"] for i in info} == {"gloo"}
    assert {i["TORCHELASTIC_RESTART_COUNT"] for i in info} == {"0"}
    # The workers met at rank 0's store (a port of its own), not at the rendezvous endpoint.
    assert len({i["MASTER_PORT"] for i in info}) == 1
    assert info[0]["pid"] != info[1]["pid"]


def test_the_ranks_were_reaped(ranks):
    for r in ranks[0]:
        assert not Path(f"/proc/{r['process']['pid']}").exists()  # gone with the launch, not left running


@pytest.mark.parametrize("rank", [0, 1])
def test_each_rank_trained_alone_on_its_rows(ranks, rank):
    """No communication yet: rank r equals one process trained on rows r of every global batch."""
    alone = train(CFG, log=lambda _: None, rank=rank, world_size=2)[1]
    got = ranks[0][rank]
    bt = CFG.batch_size // 2 * CFG.block_size
    assert_close(got["loss"], alone["loss"], torch.float32, terms=bt, depth=STEPS)
    assert_close(got["grad_norm"], alone["grad_norm"], torch.float32, terms=bt, depth=STEPS)


def test_the_copies_drift_apart(ranks):
    a, b = (r["loss"] for r in ranks[0])
    assert all(abs(x - y) > 1e-3 for x, y in zip(a, b))  # different rows, different updates: two models


def test_free_port_is_free():
    import socket
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # would raise if someone listened there


def test_run_all_kills_on_timeout(tmp_path):
    (done,) = run_all([["sleep", "30"]], timeout=0.5)
    assert done.returncode is None  # killed, and run_all returned at once
