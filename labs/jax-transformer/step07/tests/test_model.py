"""The cross-framework test: our JAX model and Hugging Face's LlamaForCausalLM, same weights."""
import jax
import numpy as np
import torch

from model import forward_jit


def hf_logits(ref, tokens):
    with torch.no_grad():
        return ref(torch.tensor(np.asarray(tokens), dtype=torch.long)).logits.numpy()


def test_logits_match_hugging_face_llama(params, ref, cfg):
    tokens = jax.random.randint(jax.random.key(10), (3, 24), 0, cfg.vocab_size)
    expect = hf_logits(ref, tokens)
    assert len(set(expect.argmax(-1).ravel())) > 5  # varied predictions, not one token everywhere
    out = np.asarray(forward_jit(params, tokens, cfg=cfg)[0])
    assert out.dtype == np.float32 and out.shape == expect.shape
    assert np.abs(out - expect).max() < 1e-4


def test_a_wrong_weight_is_caught(params, ref, tokens, cfg):
    # The test above can fail: swap two layers' MLPs and the logits no longer match.
    swapped = jax.tree_util.tree_map(lambda x: x, params)
    swapped["layers"][0]["w_up"], swapped["layers"][1]["w_up"] = params["layers"][1]["w_up"], params["layers"][0]["w_up"]
    assert np.abs(np.asarray(forward_jit(swapped, tokens, cfg=cfg)[0]) - hf_logits(ref, tokens)).max() > 1e-2
