"""FSDP: parameters and optimizer state split over the data axis, trained like one device."""
import jax
import pytest
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from parallel import collectives, fsdp, make_mesh, make_sharded_train_step
from train import train

N = 8


@pytest.fixture(scope="module")
def run(cfg, optimizer, state0, data):
    mesh = make_mesh((N,), ("data",))
    shardings, batch = fsdp(mesh, state0), NamedSharding(mesh, P("data"))
    step = make_sharded_train_step(optimizer, cfg, shardings, batch)
    compiled = step.lower(state0["params"], state0["opt_state"], *data[0]).compile()
    put = lambda x, y: (jax.device_put(x, batch), jax.device_put(y, batch))
    state, losses = train(jax.device_put(state0, shardings), compiled, data, put=put)
    return state, losses, compiled


def test_fsdp_losses_and_params_equal_one_device(run, reference, same_training):
    state, losses, _ = run
    same_training(state["params"], losses, reference[0]["params"], reference[1])


def test_every_array_is_split_on_its_first_axis(run):
    state, _, _ = run
    split = 0
    for path, leaf in jax.tree_util.tree_leaves_with_path(state):
        shapes = [s.data.shape for s in leaf.addressable_shards]
        if leaf.ndim == 0:  # Adam's step count: replicated
            assert leaf.sharding.spec == P() and shapes == [()] * N
            continue
        name = jax.tree_util.keystr(path)
        assert leaf.sharding.spec == P("data"), name  # still split after 3 steps (out_shardings)
        assert shapes == [(leaf.shape[0] // N, *leaf.shape[1:])] * N, name
        rows = sorted(s.index[0].start for s in leaf.addressable_shards)
        assert rows == [i * leaf.shape[0] // N for i in range(N)], name  # 8 different slices, not copies
        split += 1
    assert split == 3 * 21  # params, m and v: 21 tensors each


def test_device_holds_an_eighth_of_the_state(run):
    state, _, _ = run
    arrays = [a for a in jax.tree_util.tree_leaves(state) if a.ndim]
    total = sum(a.nbytes for a in arrays)
    on_device0 = sum(a.addressable_shards[0].data.nbytes for a in arrays)
    assert on_device0 * N == total


def test_compiler_gathers_weights_and_scatters_gradients(run):
    # Weights are gathered before use. The gradient sum comes back split: XLA on CPU may write
    # that reduce-scatter as an all-reduce followed by a slice, so count either.
    ops = collectives(run[2])
    assert ops["all-gather"] >= 1
    assert ops["reduce-scatter"] + ops["all-reduce"] >= 1
