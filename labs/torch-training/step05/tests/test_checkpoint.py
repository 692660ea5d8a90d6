"""Exact resume: stop a run, restart it from its checkpoint, get the uninterrupted run bit for bit."""
import pytest
import torch

from model import ModelConfig
from train import TrainConfig, train

TINY = ModelConfig(vocab_size=2048, block_size=16, n_layer=1, n_head=2, n_kv_head=1, d_model=32, d_ff=64)
STEPS, STOP = 12, 7


def config(ckpt, **overrides) -> TrainConfig:
    return TrainConfig(steps=STEPS, batch_size=4, block_size=16, lr=1e-2, warmup_steps=3, min_lr=1e-3,
                       log_interval=1000, eval_batches=1, eval_interval=5, save_interval=4,
                       ckpt_path=str(ckpt), **overrides)


def quiet(_):
    pass


def interrupted_then_resumed(tmp_path, tamper=None, **overrides):
    ckpt = tmp_path / "run.pt"
    _, first = train(config(ckpt, **overrides), TINY, quiet, stop_at=STOP)
    assert len(first["loss"]) == STOP
    if tamper:
        state = torch.load(ckpt, weights_only=True)
        tamper(state)
        torch.save(state, ckpt)
    return train(config(ckpt, resume=True, **overrides), TINY, quiet)  # all fresh objects


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_resumed_run_equals_the_uninterrupted_run_bit_for_bit(tmp_path, precision):
    full_model, full = train(config(tmp_path / "full.pt", precision=precision), TINY, quiet)
    model, resumed = interrupted_then_resumed(tmp_path, precision=precision)
    assert len(set(full["loss"])) == STEPS  # the loss really changes from step to step
    assert resumed["loss"][STOP:] == full["loss"][STOP:]  # float equality, not a tolerance
    assert resumed["val"] == full["val"] and resumed["lr"] == full["lr"]
    for (name, a), b in zip(full_model.state_dict().items(), model.state_dict().values()):
        assert torch.equal(a, b), name


def drop_optimizer_state(state):
    state["optimizer"]["state"] = {}  # AdamW restarts with m = v = 0, t = 0


def reseed_batches(state):
    state["batch_rng"] = torch.Generator().manual_seed(1234).get_state()


@pytest.mark.parametrize("tamper", [drop_optimizer_state, reseed_batches])
def test_each_saved_piece_is_needed(tmp_path, tamper):
    """The exactness above is not automatic: without each piece the curve goes elsewhere."""
    _, full = train(config(tmp_path / "full.pt"), TINY, quiet)
    _, resumed = interrupted_then_resumed(tmp_path, tamper)
    assert resumed["loss"][STOP:] != full["loss"][STOP:]
