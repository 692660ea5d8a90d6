import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from dlc_shared.testing import assert_close

from model import forward_jit, generate, init_cache


@pytest.fixture(scope="module")
def prompt(cfg):
    return jax.random.randint(jax.random.key(11), (2, 5), 0, cfg.vocab_size)


def test_cached_and_uncached_generation_are_identical(params, prompt, cfg):
    cached = generate(params, prompt, 12, cfg, use_cache=True)
    uncached = generate(params, prompt, 12, cfg, use_cache=False)
    assert cached.shape == (2, 17)
    assert len(set(np.asarray(cached[:, 5:]).ravel())) > 3  # varied tokens, not one repeated
    np.testing.assert_array_equal(cached, uncached)


def test_decode_logits_equal_full_forward_logits(params, cfg):
    # Feed a sequence one token at a time through the cache; every step's logits must
    # equal the matching row of one full (uncached) forward pass.
    seq = jax.random.randint(jax.random.key(12), (2, 9), 0, cfg.vocab_size)
    full, _ = forward_jit(params, seq, cfg=cfg)
    logits, caches = forward_jit(params, seq[:, :4], cfg=cfg, caches=init_cache(cfg, 2), pos=jnp.int32(0))
    steps = [logits]
    for p in range(4, 9):
        logits, caches = forward_jit(params, seq[:, p:p + 1], cfg=cfg, caches=caches, pos=jnp.int32(p))
        steps.append(logits)
    # Same model, different shapes (one row at a time vs all rows): rounding only, through 2 sublayers
    # per block and the head; the longest reduction is d_ff, d_model or the 9 positions.
    assert_close(jnp.concatenate(steps, axis=1), full, np.float32, terms=max(cfg.d_model, cfg.d_ff, 9),
                 depth=2 * cfg.n_layers + 1)


def test_greedy_tokens_match_hugging_face_generate(params, ref, prompt, cfg):
    # Hugging Face runs its own KV cache (DynamicCache); eos_token_id=None so it never stops early.
    with torch.no_grad():
        ids = torch.tensor(np.asarray(prompt), dtype=torch.long)
        expect = ref.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=10,
                              do_sample=False, eos_token_id=None, pad_token_id=0)
    np.testing.assert_array_equal(generate(params, prompt, 10, cfg), expect.numpy())
