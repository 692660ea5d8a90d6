"""Checks the numbers in this step's README worked answers (풀이) with the step's own code."""
import math

import jax

from model import Config, init_params


def n_elements(tree) -> int:
    # eval_shape: shapes only, nothing is allocated or computed
    return sum(math.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(tree))


def test_answer_param_count_four_layers():
    # 풀이: N(L=2) = 125,248; each layer adds 2*64*64 + 2*64*32 + 3*64*176 + 2*64 = 46,208
    count = lambda cfg: n_elements(jax.eval_shape(lambda k: init_params(k, cfg), jax.random.key(0)))
    assert count(Config()) == 125_248
    assert count(Config(n_layers=4)) - count(Config()) == 2 * 46_208
    assert count(Config(n_layers=4)) == 217_664


def test_answer_gqa_kv_is_half_of_mha():
    # 풀이: K/V projections (and so the cache) have n_kv_heads = 2 heads against H = 4
    p = jax.eval_shape(lambda k: init_params(k, Config()), jax.random.key(0))["layers"][0]
    assert p["wq"].shape == (64, 64) and p["wk"].shape == (64, 32) and p["wv"].shape == (64, 32)


LLAMA3_8B = Config(vocab_size=128_256, d_model=4096, n_layers=32, n_heads=32, n_kv_heads=8, d_ff=14_336,
                   max_seq_len=8192, rope_theta=500_000.0)


def test_answer_swiglu_weights_llama3_8b():
    # 풀이: 3 * 4096 * 14336 = 176,160,768 weights in one SwiGLU layer
    from model import init_layer
    p = jax.eval_shape(lambda k: init_layer(k, LLAMA3_8B), jax.random.key(0))
    assert n_elements([p["w_gate"], p["w_up"], p["w_down"]]) == 176_160_768
