import jax
import numpy as np
import torch
from dlc_shared.testing import assert_close

from model import embed, lm_head


def test_embed_is_a_row_lookup_equal_to_one_hot_matmul(params, tokens, cfg):
    one_hot = np.eye(cfg.vocab_size)[np.asarray(tokens)]  # float64 (B, T, V)
    expect = one_hot @ np.asarray(params["embed"], np.float64)
    out = embed(params, tokens)
    assert out.shape == (*tokens.shape, cfg.d_model)
    np.testing.assert_allclose(out, expect, rtol=0, atol=0)


def test_embed_and_lm_head_match_hugging_face(params, tokens, ref):
    t = torch.tensor(np.asarray(tokens), dtype=torch.long)
    with torch.no_grad():
        hf_x = ref.model.embed_tokens(t)
        hf_logits = ref.lm_head(hf_x)
    x = embed(params, tokens)
    np.testing.assert_array_equal(x, hf_x.numpy())
    logits = lm_head(params, x)
    assert len(set(np.argmax(hf_logits.numpy(), -1).ravel())) > 1  # the reference is not degenerate
    assert_close(logits, hf_logits.numpy(), np.float32, terms=params["embed"].shape[1])  # one matmul, K = d_model


def test_jitted_gather_clamps_out_of_range_ids(params, cfg):
    # Why run.py checks ids: JAX returns the last row instead of raising.
    bad = jax.numpy.array([[cfg.vocab_size + 5]])
    np.testing.assert_array_equal(jax.jit(embed)(params, bad)[0, 0], params["embed"][-1])
