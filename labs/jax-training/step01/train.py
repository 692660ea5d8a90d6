"""Training the JAX Transformer, built up one step at a time.

Step 01: next-token pairs from the corpus and the cross-entropy loss.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from model import Config, forward


def get_batch(ids: np.ndarray, key, batch_size: int, seq_len: int):
    """Random windows of seq_len + 1 tokens: x = window[:-1], y = window[1:] (each x's next token)."""
    starts = np.asarray(jax.random.randint(key, (batch_size,), 0, len(ids) - seq_len))
    window = ids[starts[:, None] + np.arange(seq_len + 1)].astype(np.int32)
    return jnp.asarray(window[:, :-1]), jnp.asarray(window[:, 1:])


def cross_entropy(logits, targets):
    """Mean over all positions of -log softmax(logits)[target]."""
    logp = jax.nn.log_softmax(logits, axis=-1)  # log-sum-exp inside: no overflow for large logits
    return -jnp.mean(jnp.take_along_axis(logp, targets[..., None], axis=-1))


def loss_fn(params, x, y, cfg: Config):
    return cross_entropy(forward(params, x, cfg), y)


def unigram_loss(train_ids: np.ndarray, val_ids: np.ndarray, vocab_size: int) -> float:
    """The baseline that ignores context: -mean log p(token), p = train frequencies (add-one smoothed)."""
    counts = np.bincount(train_ids, minlength=vocab_size) + 1.0
    logp = np.log(counts / counts.sum())
    return float(-logp[val_ids].mean())
