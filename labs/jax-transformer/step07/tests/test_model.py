"""The cross-framework test: our JAX model and Hugging Face's LlamaForCausalLM, same weights."""
import jax
import numpy as np
import pytest
import torch
from dlc_shared.testing import assert_close

from model import forward_jit


def hf_logits(ref, tokens):
    with torch.no_grad():
        return ref(torch.tensor(np.asarray(tokens), dtype=torch.long)).logits.numpy()


def assert_logits_close(out, expect, cfg):
    # Rounding chains through 2 sublayers per block and the head (depth); the longest reduction
    # feeding a logit is d_ff, d_model or the sequence (softmax, weights @ v).
    assert_close(out, expect, np.float32, terms=max(cfg.d_model, cfg.d_ff, expect.shape[1]),
                 depth=2 * cfg.n_layers + 1)


def test_logits_match_hugging_face_llama(params, ref, cfg):
    tokens = jax.random.randint(jax.random.key(10), (3, 24), 0, cfg.vocab_size)
    expect = hf_logits(ref, tokens)
    assert len(set(expect.argmax(-1).ravel())) > 5  # varied predictions, not one token everywhere
    out = np.asarray(forward_jit(params, tokens, cfg=cfg)[0])
    assert out.dtype == np.float32 and out.shape == expect.shape
    assert_logits_close(out, expect, cfg)


def test_a_wrong_weight_is_caught(params, ref, tokens, cfg):
    # The test above can fail: swap two layers' MLPs and the logits no longer match.
    swapped = jax.tree_util.tree_map(lambda x: x, params)
    swapped["layers"][0]["w_up"], swapped["layers"][1]["w_up"] = params["layers"][1]["w_up"], params["layers"][0]["w_up"]
    with pytest.raises(AssertionError, match="tolerance"):
        assert_logits_close(np.asarray(forward_jit(swapped, tokens, cfg=cfg)[0]), hf_logits(ref, tokens), cfg)
