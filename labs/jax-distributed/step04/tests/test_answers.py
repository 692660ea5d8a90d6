"""Checks the numbers in this step's README worked answers (풀이) with the step's own code."""
import math

import jax

from model import Config
from train import make_optimizer


def test_answer_tensor_parallel_shards_and_bytes():
    from parallel import make_mesh, tensor_parallel
    from train import init_state
    cfg = Config()
    state = jax.eval_shape(lambda k: init_state(k, cfg, make_optimizer(1e-2, 0, 10)), jax.random.key(0))
    shardings = tensor_parallel(make_mesh((4, 2), ("data", "model")), state)
    layer = shardings["params"]["layers"][0]
    assert layer["wq"].shard_shape((64, 64)) == (64, 32) and 32 // cfg.head_dim == 2
    assert layer["wk"].shard_shape((64, 32)) == (64, 16) and 16 // cfg.head_dim == 1
    leaves = zip(jax.tree_util.tree_leaves(state["params"]), jax.tree_util.tree_leaves(shardings["params"]))
    per_device = sum(math.prod(s.shard_shape(a.shape)) for a, s in leaves)
    assert per_device == 46_080 + 262_464 == 308_544
    assert per_device * 12 == 3_702_528
    assert round(1 - 3_702_528 / 4_255_488, 2) == 0.13
    assert round(2 * 2048 * 64 / 354_624, 2) == 0.74


def test_answer_mlp_all_reduce_bytes():
    assert (16 // 4) * 64 * 64 * 4 == 65_536
