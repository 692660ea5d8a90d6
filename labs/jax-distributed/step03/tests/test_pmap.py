"""pmap data parallelism trains exactly like one device."""
import jax
import numpy as np
import pytest

from parallel import make_pmap_train_step, replicate, split_batch
from train import train

N = 8


@pytest.fixture(scope="module")
def pmap_run(cfg, optimizer, state0, data):
    assert jax.device_count() == N
    step = make_pmap_train_step(optimizer, cfg, N)
    return train(replicate(state0, N), step, data, put=lambda x, y: (split_batch(x, N), split_batch(y, N)))


def test_pmap_losses_and_params_equal_one_device(pmap_run, reference, same_training):
    state, losses = pmap_run
    one_copy = jax.tree_util.tree_map(lambda a: a[0], state["params"])
    same_training(one_copy, losses, reference[0]["params"], reference[1])


def test_every_device_holds_the_same_copy(pmap_run, cfg):
    state, _ = pmap_run
    for leaf in jax.tree_util.tree_leaves(state["params"]):
        assert leaf.shape[0] == N  # the device axis is part of the array
        assert len(leaf.addressable_shards) == N
        shards = [np.asarray(s.data) for s in leaf.addressable_shards]
        assert all(s.shape == (1, *leaf.shape[1:]) for s in shards)  # one full copy per device
        for s in shards[1:]:  # after the all-reduce every device took the identical update
            np.testing.assert_array_equal(s, shards[0])


def test_split_batch_rows_and_bad_size():
    x = np.arange(16 * 3).reshape(16, 3)
    parts = split_batch(x, 8)
    assert parts.shape == (8, 2, 3)
    np.testing.assert_array_equal(parts[3], x[6:8])  # device 3 reads rows 6 and 7
    with pytest.raises(ValueError, match="does not split"):
        split_batch(x[:10], 8)
