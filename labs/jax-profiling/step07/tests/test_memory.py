import jax
import jax.numpy as jnp
import numpy as np
import pytest
from dlc_shared.testing import assert_close

from memory import memory, tree_bytes
from train import loss_and_grad, make_train_step, random_batch


@pytest.fixture(scope="module")
def big_batch(cfg):
    return random_batch(jax.random.key(2), cfg, 4, 32)  # activations larger than the parameters


@pytest.fixture(scope="module")
def compiled(state, big_batch, cfg, optimizer):
    return {(d, r): make_train_step(optimizer, cfg, donate=d, remat=r).lower(*state, *big_batch).compile()
            for d, r in [(False, False), (True, False), (False, True)]}


def test_donation_aliases_exactly_the_params_and_optimizer_state(compiled, state):
    plain, donated = memory(compiled[False, False]), memory(compiled[True, False])
    assert plain["alias"] == 0
    assert donated["alias"] == tree_bytes(state[0]) + tree_bytes(state[1])
    assert donated["argument"] == plain["argument"] == tree_bytes(state) + 2 * 4 * 32 * 4  # + x, y int32 (4, 32)
    for m in (plain, donated):
        assert m["peak"] == m["argument"] + m["output"] - m["alias"] + m["temp"]


def test_a_donated_step_deletes_its_inputs_and_computes_the_same(compiled, state, big_batch, cfg):
    fresh = jax.tree_util.tree_map(jnp.copy, state)
    *new, loss = compiled[True, False](*fresh, *big_batch)
    *ref, ref_loss = compiled[False, False](*state, *big_batch)
    assert all(leaf.is_deleted() for leaf in jax.tree_util.tree_leaves(fresh[0]))
    with pytest.raises(RuntimeError):
        np.asarray(fresh[0]["lm_head"])
    assert not state[0]["lm_head"].is_deleted()  # the undonated step left its inputs alone
    # the same arithmetic; only where outputs are written differs
    assert float(loss) == float(ref_loss)
    for a, b in zip(jax.tree_util.tree_leaves(new), jax.tree_util.tree_leaves(ref)):
        assert np.array_equal(np.asarray(a), np.asarray(b))


def test_remat_keeps_fewer_temporaries_and_the_same_gradients(compiled, state, big_batch, cfg):
    assert memory(compiled[False, True])["temp"] < memory(compiled[False, False])["temp"]
    params = state[0]
    grad = jax.jit(loss_and_grad, static_argnums=(3, 4))
    loss, g = grad(params, *big_batch, cfg, False)
    loss_r, g_r = grad(params, *big_batch, cfg, True)
    # recomputing a block repeats its arithmetic; XLA may fuse it differently: rounding only
    depth, terms = 2 * (2 * cfg.n_layers + 2), max(cfg.d_model, cfg.d_ff, big_batch[0].size)
    assert_close(float(loss_r), float(loss), np.float32, terms=terms, depth=depth)
    for a, b in zip(jax.tree_util.tree_leaves(g_r), jax.tree_util.tree_leaves(g)):
        assert_close(a, b, np.float32, terms=terms, depth=depth)
