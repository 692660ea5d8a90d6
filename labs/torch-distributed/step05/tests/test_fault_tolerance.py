"""A rank killed mid-training under torchrun --max-restarts: the job restarts, resumes from rank 0's last
checkpoint, and ends with the losses of an uninterrupted run (one process, the same global batches)."""
import json

import pytest
import torch

from dlc_shared.testing import assert_close
from launch import free_port, run_all, torchrun_cmd
from train import TrainConfig, build, train

STEPS, SAVE, KILL = 6, 2, 5  # saves after steps 2 and 4; the last rank dies at the start of step 5


@pytest.fixture(scope="module")
def crashed_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ft")
    args = ["train.py", "--steps", str(STEPS), "--save-interval", str(SAVE), "--kill-at", str(KILL),
            "--ckpt-path", str(out / "ckpt.pt"), "--out", str(out)]
    (done,) = run_all([torchrun_cmd(args, 2, free_port(), extra=("--max-restarts=1", "--monitor-interval=0.2"))],
                      timeout=150)
    assert done.returncode == 0, done.stderr[-3000:]
    return done, [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]


def test_the_crash_happened_and_the_job_restarted(crashed_run):
    done, ranks = crashed_run
    assert {r["process"]["TORCHELASTIC_RESTART_COUNT"] for r in ranks} == {"1"}  # the second attempt wrote these
    assert "resumed from" in done.stdout and "after step 4" in done.stdout
    assert "exitcode: -9" in done.stderr  # torchrun saw the rank die of SIGKILL (signal 9)


def test_the_restarted_job_ends_like_an_uninterrupted_run(crashed_run):
    _, ranks = crashed_run
    ref = train(TrainConfig(steps=STEPS), log=lambda _: None)[1]
    assert len(set(ref["loss"])) == STEPS
    bt = TrainConfig().batch_size * TrainConfig().block_size
    for r in ranks:
        assert len(r["loss"]) == STEPS  # steps 1-4 from the checkpoint, 5-6 after the restart
        assert_close(r["loss"], ref["loss"], torch.float32, terms=bt, depth=STEPS)
        assert_close(r["grad_norm"], ref["grad_norm"], torch.float32, terms=bt, depth=STEPS)
    n = build(TrainConfig())[0].num_params()
    assert ranks[0]["comm_bytes"] == [4 * n] * STEPS  # DDP all-reduced every gradient once per step
