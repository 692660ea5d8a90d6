import jax
import jax.numpy as jnp
import numpy as np

from convert import hf_model
from model import Config, count_params, dense, init_params


def formula(cfg: Config) -> int:
    d, hd, f = cfg.d_model, cfg.head_dim, cfg.d_ff
    attn = d * cfg.n_heads * hd * 2 + d * cfg.n_kv_heads * hd * 2  # wq, wo + wk, wv
    layer = attn + 3 * d * f + 2 * d  # SwiGLU's three matrices + two norm weights
    return 2 * cfg.vocab_size * d + cfg.n_layers * layer + d


def test_same_shapes_and_count_as_hugging_face_llama(params, cfg):
    # hf_model loads strictly: every HF tensor must have a leaf of the right shape.
    ref = hf_model(params, cfg)
    assert sum(p.numel() for p in ref.parameters()) == count_params(params) == formula(cfg)
    assert len(jax.tree_util.tree_leaves(params)) == 3 + 9 * cfg.n_layers


def test_same_key_same_tree_and_new_key_new_tree(cfg):
    a = init_params(jax.random.key(7), cfg)
    b = init_params(jax.random.key(7), cfg)
    c = init_params(jax.random.key(8), cfg)
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(c)
    for x, y, z in zip(*(jax.tree_util.tree_leaves(t) for t in (a, b, c))):
        np.testing.assert_array_equal(x, y)
        if x.ndim == 2:  # norm weights start at 1 whatever the key
            assert not np.array_equal(x, z)


def test_split_keys_never_repeat_a_weight(params):
    # A reused key would give two equal matrices (e.g. wk == wv): check every pair.
    mats = [np.asarray(x) for x in jax.tree_util.tree_leaves(params) if x.ndim == 2]
    firsts = [m.ravel()[:8].tobytes() for m in mats]
    assert len(set(firsts)) == len(mats)


def test_dense_scale():
    w = dense(jax.random.key(1), 256, 512)
    # Not rounding bounds: sample statistics of 256 * 512 normal draws. The standard error of the
    # std is (1/16) / sqrt(2n) = 1.2e-4 and of the mean (1/16) / sqrt(n) = 1.7e-4; 0.002 is > 10 of them.
    assert abs(float(jnp.std(w)) - 1 / 16) < 0.002  # 1/sqrt(256)
    assert abs(float(jnp.mean(w))) < 0.002
