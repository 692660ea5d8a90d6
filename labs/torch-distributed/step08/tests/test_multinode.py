"""Two torchrun invocations joined by c10d rendezvous (--nnodes 2), a node that never joins, and Ray Train:
each run's losses equal one process's on the same global batches."""
import json
import subprocess
import sys
import time

import pytest
import torch

from dlc_shared.testing import assert_close
from launch import free_port, run_all, torchrun_cmd
from train import TrainConfig, train

STEPS = 3
CFG = TrainConfig(steps=STEPS)
BT = CFG.batch_size * CFG.block_size


@pytest.fixture(scope="module")
def reference():
    ref = train(CFG, log=lambda _: None)[1]
    assert len(set(ref["loss"])) == STEPS
    return ref


def test_two_nodes_meet_at_the_rendezvous_and_train_as_one(tmp_path, reference):
    port = free_port()
    node = torchrun_cmd(["train.py", "--steps", str(STEPS), "--out", str(tmp_path)], 1, port, nnodes=2,
                        run_id="two-nodes")
    done = run_all([node, node], timeout=120)  # two agents, as two machines would start them
    assert [d.returncode for d in done] == [0, 0], [d.stderr[-2000:] for d in done]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert sorted(r["process"]["GROUP_RANK"] for r in ranks) == ["0", "1"]  # one node rank each
    assert {r["process"]["WORLD_SIZE"] for r in ranks} == {"2"}
    for r in ranks:
        assert_close(r["loss"], reference["loss"], torch.float32, terms=BT, depth=STEPS)


def test_a_node_that_never_joins_ends_the_job_with_a_clear_error(tmp_path):
    """--nnodes 2 but one node starts: the rendezvous gives up after join_timeout, it does not hang."""
    t0 = time.monotonic()
    (done,) = run_all([torchrun_cmd(["train.py", "--steps", "1", "--out", str(tmp_path)], 1, free_port(),
                                    nnodes=2, run_id="alone", extra=("--rdzv-conf=join_timeout=5",))],
                      timeout=90)
    elapsed = time.monotonic() - t0
    assert done.returncode not in (0, None)  # it failed by itself, before our 90 s kill
    assert "RendezvousTimeoutError" in done.stderr
    assert elapsed < 90
    assert not list(tmp_path.glob("rank*.json"))  # no worker ever started


@pytest.mark.slow
def test_ray_train_equals_one_process(tmp_path, reference):
    proc = subprocess.run([sys.executable, "ray_train.py", "--steps", str(STEPS), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert [(r["process"]["rank"], r["process"]["world_size"], r["process"]["backend"]) for r in ranks] == \
        [(0, 2, "gloo"), (1, 2, "gloo")]
    for r in ranks:
        assert_close(r["loss"], reference["loss"], torch.float32, terms=BT, depth=STEPS)
