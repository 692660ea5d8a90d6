import jax
import jax.numpy as jnp
import numpy as np
import torch
from dlc_shared.testing import assert_close
from flax import nnx

from model import count_params, forward_jit
from nnx_model import Llama, from_params


def test_nnx_model_matches_functional_model_and_hugging_face(params, ref, cfg):
    tokens = jax.random.randint(jax.random.key(13), (2, 16), 0, cfg.vocab_size)
    model = from_params(params, cfg)
    out = np.asarray(nnx.jit(lambda m, t: m(t))(model, tokens))
    functional, _ = forward_jit(params, tokens, cfg=cfg)
    # Rounding chains through 2 sublayers per block and the head; longest reduction: d_ff, d_model or T.
    terms, depth = max(cfg.d_model, cfg.d_ff, tokens.shape[1]), 2 * cfg.n_layers + 1
    assert_close(out, functional, np.float32, terms=terms, depth=depth)
    with torch.no_grad():
        expect = ref(torch.tensor(np.asarray(tokens), dtype=torch.long)).logits.numpy()
    assert len(set(expect.argmax(-1).ravel())) > 5
    assert_close(out, expect, np.float32, terms=terms, depth=depth)


def test_nnx_init_has_the_functional_tree_shape(params, cfg):
    model = Llama(cfg, nnx.Rngs(0))
    assert isinstance(model.layers, nnx.List)
    _, state = nnx.split(model, nnx.Param)
    leaves = jax.tree_util.tree_leaves(state)
    assert len(leaves) == len(jax.tree_util.tree_leaves(params))
    assert sum(x.size for x in leaves) == count_params(params)
    # Same Rngs seed -> same weights; the state is an ordinary pytree of arrays.
    again = nnx.state(Llama(cfg, nnx.Rngs(0)), nnx.Param)
    for a, b in zip(leaves, jax.tree_util.tree_leaves(again)):
        np.testing.assert_array_equal(a, b)


def test_grad_flows_through_nnx_state(params, cfg):
    # The split state is what jax.grad differentiates: one gradient per parameter.
    model = from_params(params, cfg)
    graphdef, state = nnx.split(model)
    tokens = jnp.arange(8)[None] % cfg.vocab_size
    loss = lambda s: jnp.mean(nnx.merge(graphdef, s)(tokens) ** 2)
    grads = jax.jit(jax.grad(loss))(state)
    g = jax.tree_util.tree_leaves(grads)
    assert len(g) == len(jax.tree_util.tree_leaves(params)) and all(np.isfinite(x).all() for x in g)
    assert float(jnp.abs(grads["lm_head"]["kernel"][...]).max()) > 0
