"""Checks the numbers in this step's README worked answers (풀이) with the step's own code."""
import math

import jax

from model import Config, init_params
from train import make_optimizer


def test_answer_fsdp_bytes_per_device():
    from parallel import fsdp, make_mesh
    cfg = Config()
    optimizer = make_optimizer(1e-2, 0, 10)
    from train import init_state
    state = jax.eval_shape(lambda k: init_state(k, cfg, optimizer), jax.random.key(0))
    shardings = fsdp(make_mesh((8,), ("data",)), state)
    arrays = [(a, s) for a, s in zip(jax.tree_util.tree_leaves(state), jax.tree_util.tree_leaves(shardings)) if a.ndim]
    device0 = sum(math.prod(s.shard_shape(a.shape)) * 4 for a, s in arrays)
    assert sum(math.prod(a.shape) * 4 for a, _ in arrays) == 4_255_488
    assert device0 == 531_936 == 4_255_488 // 8


def test_answer_fsdp_traffic():
    p = 354_624 * 4
    assert 3 * 7 * p // 8 == 3_723_552
    assert 3_723_552 / 2_482_368 == 1.5


def test_answer_vocab_97():
    from parallel import fsdp, make_mesh
    from jax.sharding import PartitionSpec as P
    params = jax.eval_shape(lambda k: init_params(k, Config(vocab_size=97, d_model=32)), jax.random.key(0))
    shardings = fsdp(make_mesh((8,), ("data",)), params)
    assert shardings["embed"].spec == P() and shardings["lm_head"].spec == P("data")
