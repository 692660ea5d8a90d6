import jax
import jax.numpy as jnp
import numpy as np
import pytest

from train import init_state, load_checkpoint, make_optimizer, make_train_step, save_checkpoint, train_steps


@pytest.fixture(scope="module")
def setup(cfg):
    optimizer, _ = make_optimizer(1e-2, 2, 8)
    ids = (np.arange(3000) * 7 % cfg.vocab_size).astype(np.uint16)
    return optimizer, make_train_step(optimizer, cfg), ids


def test_resumed_run_equals_uninterrupted_run(cfg, setup, tmp_path):
    optimizer, step, ids = setup
    full, full_losses = train_steps(init_state(jax.random.key(0), cfg, optimizer), step, ids, 8, 2, 8)

    first, first_losses = train_steps(init_state(jax.random.key(0), cfg, optimizer), step, ids, 4, 2, 8)
    save_checkpoint(tmp_path / "c.npz", first)
    template = init_state(jax.random.key(99), cfg, optimizer)  # different numbers, same structure
    restored = load_checkpoint(tmp_path / "c.npz", template)
    resumed, rest_losses = train_steps(restored, step, ids, 8, 2, 8)

    assert len(set(full_losses)) == 8  # the loss moves; equal curves are not a constant
    assert first_losses + rest_losses == full_losses  # bit for bit
    for a, b in zip(jax.tree_util.tree_leaves(full), jax.tree_util.tree_leaves(resumed)):
        np.testing.assert_array_equal(a, b)


def test_resume_without_optimizer_state_differs(cfg, setup, tmp_path):
    # Why the optimizer state is in the checkpoint: a fresh Adam state changes the curve.
    optimizer, step, ids = setup
    full, full_losses = train_steps(init_state(jax.random.key(0), cfg, optimizer), step, ids, 8, 2, 8)
    first, _ = train_steps(init_state(jax.random.key(0), cfg, optimizer), step, ids, 4, 2, 8)
    reset = {**first, "opt_state": optimizer.init(first["params"])}
    _, rest = train_steps(reset, step, ids, 8, 2, 8)
    assert rest != full_losses[4:]


def test_round_trip_and_mismatch_error(cfg, setup, tmp_path):
    optimizer, _, _ = setup
    state = init_state(jax.random.key(1), cfg, optimizer)
    save_checkpoint(tmp_path / "s.npz", state)
    back = load_checkpoint(tmp_path / "s.npz", init_state(jax.random.key(2), cfg, optimizer))
    for a, b in zip(jax.tree_util.tree_leaves(state), jax.tree_util.tree_leaves(back)):
        np.testing.assert_array_equal(a, b)
    wrong = {**state, "step": jnp.zeros((2,), jnp.int32)}
    with pytest.raises(ValueError, match="step"):
        load_checkpoint(tmp_path / "s.npz", wrong)
