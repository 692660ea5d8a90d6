import jax
import jax.numpy as jnp
import numpy as np
import torch
import torch.nn.functional as F
from dlc_shared.testing import assert_close

from model import forward_jit
from train import eval_batches, evaluate, next_token, sample


def test_evaluate_is_the_mean_cross_entropy_over_fixed_windows(params, cfg):
    ids = (np.arange(3000) * 13 % cfg.vocab_size).astype(np.uint16)
    ours = evaluate(params, ids, cfg, batch_size=2, seq_len=8, n_batches=3)
    losses = []
    for x, y in eval_batches(ids, 2, 8, 3):
        logits = torch.tensor(np.asarray(forward_jit(params, x, cfg=cfg)))
        losses.append(F.cross_entropy(logits.reshape(-1, cfg.vocab_size),
                                      torch.tensor(np.asarray(y), dtype=torch.long).reshape(-1)).item())
    # evaluate runs its own jitted forward (2 sublayers per block + the head), then log-softmax and
    # two means; the longest reduction is d_ff, d_model or the 2 * 8 positions of a batch.
    assert_close(ours, np.mean(losses), np.float32, terms=max(cfg.d_model, cfg.d_ff, 2 * 8),
                 depth=2 * cfg.n_layers + 3)
    first_x, _ = next(eval_batches(ids, 2, 8, 3))
    np.testing.assert_array_equal(first_x.ravel(), ids[:16])  # deterministic: starts at token 0


def test_samples_follow_the_softmax_distribution(params, cfg):
    # Many keys, one position: token frequencies must match softmax(logits / T).
    buf = jnp.zeros((1, cfg.max_seq_len), jnp.int32).at[0, :3].set(jnp.array([5, 6, 7]))
    probs = np.asarray(jax.nn.softmax(forward_jit(params, buf, cfg=cfg)[0, 2] / 0.7))
    keys = jax.random.split(jax.random.key(0), 4000)
    draws = np.asarray(jax.vmap(lambda k: next_token(params, buf, 3, k, 0.7, cfg))(keys))[:, 0]
    freq = np.bincount(draws, minlength=cfg.vocab_size) / len(draws)
    assert probs.max() > 0.05 and len(set(draws)) > 5
    assert np.abs(freq - probs).max() < 0.03  # ~4 standard errors at n = 4000


def test_top_k_temperature_and_keys(params, cfg):
    prompt = jnp.array([[1, 2, 3]], jnp.int32)
    buf = jnp.zeros((1, cfg.max_seq_len), jnp.int32).at[:, :3].set(prompt)
    logits = np.asarray(forward_jit(params, buf, cfg=cfg)[0, 2])
    top3 = set(np.argsort(logits)[-3:])
    keys = jax.random.split(jax.random.key(1), 200)
    draws = set(np.asarray(jax.vmap(lambda k: next_token(params, buf, 3, k, 1.0, cfg, 3))(keys)).ravel())
    assert draws <= top3 and len(draws) > 1
    assert int(next_token(params, buf, 3, keys[0], 1e-4, cfg)[0]) == int(np.argmax(logits))
    a = sample(params, prompt, jax.random.key(2), 6, cfg)
    b = sample(params, prompt, jax.random.key(2), 6, cfg)
    c = sample(params, prompt, jax.random.key(3), 6, cfg)
    np.testing.assert_array_equal(a, b)  # same key, same text
    assert not np.array_equal(a, c)
