"""Exact resume: stop a run, restart it from rank 0's checkpoint, get the uninterrupted run bit for bit."""
import torch

from train import TrainConfig, train

STEPS, STOP = 6, 3


def quiet(_):
    pass


def test_resumed_run_equals_the_uninterrupted_run_bit_for_bit(tmp_path):
    full_model, full = train(TrainConfig(steps=STEPS, ckpt_path=str(tmp_path / "full.pt")), quiet)
    cfg = TrainConfig(steps=STEPS, ckpt_path=str(tmp_path / "run.pt"))
    _, first = train(cfg, quiet, stop_at=STOP)
    assert len(first["loss"]) == STOP
    model, resumed = train(cfg, quiet)  # all fresh objects, from the file
    assert len(set(full["loss"])) == STEPS
    assert resumed["loss"] == full["loss"]  # float equality, not a tolerance
    for (name, a), b in zip(full_model.state_dict().items(), model.state_dict().values()):
        assert torch.equal(a, b), name


def test_without_the_optimizer_state_the_curve_goes_elsewhere(tmp_path):
    _, full = train(TrainConfig(steps=STEPS), quiet)
    cfg = TrainConfig(steps=STEPS, ckpt_path=str(tmp_path / "run.pt"))
    train(cfg, quiet, stop_at=STOP)
    state = torch.load(cfg.ckpt_path, weights_only=True)
    state["optimizer"]["state"] = {}  # AdamW restarts with m = v = 0, t = 0
    torch.save(state, cfg.ckpt_path)
    assert train(cfg, quiet)[1]["loss"][STOP:] != full["loss"][STOP:]
