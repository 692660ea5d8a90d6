"""Training the JAX Transformer, built up one step at a time.

Step 01: next-token pairs from the corpus and the cross-entropy loss.
Step 02: gradients with jax.value_and_grad and a plain SGD update.
Step 03: the whole step (forward, backward, update) compiled as one XLA program.
Step 04: AdamW from optax with warmup + cosine decay and gradient clipping; the
optimizer state is one more pytree that goes into the step and comes back out.
Step 05: loss on held-out tokens, and sampling text with explicit PRNG keys.
"""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

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


# value_and_grad(f)(params, ...) returns (f(params, ...), df/dparams): one forward and
# one backward pass. The gradient is a pytree shaped exactly like params.
loss_and_grad = jax.value_and_grad(loss_fn)


def global_norm(tree) -> jax.Array:
    return jnp.sqrt(sum(jnp.sum(g * g) for g in jax.tree_util.tree_leaves(tree)))


def sgd_update(params, grads, lr: float):
    """p <- p - lr * g for every leaf: tree_map walks both trees in step."""
    return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads)


def sgd_train_step(params, x, y, lr, cfg: Config):
    """One training step as a pure function: (params, batch) -> (new params, loss)."""
    loss, grads = loss_and_grad(params, x, y, cfg)
    return sgd_update(params, grads, lr), loss


# cfg fixes the shapes (static); lr is traced, so changing it does not recompile.
sgd_train_step_jit = jax.jit(sgd_train_step, static_argnames="cfg")


def make_optimizer(lr: float, warmup: int, total: int, weight_decay: float = 0.1, clip: float = 1.0):
    """clip_by_global_norm, then AdamW whose learning rate follows warmup + cosine decay."""
    schedule = optax.warmup_cosine_decay_schedule(
        init_value=0.0, peak_value=lr, warmup_steps=warmup, decay_steps=total, end_value=lr / 10)
    # Decay matrices only: norm weights and other 1-D leaves keep their scale.
    decay_mask = lambda params: jax.tree_util.tree_map(lambda p: p.ndim >= 2, params)
    optimizer = optax.chain(
        optax.clip_by_global_norm(clip),
        optax.adamw(schedule, b1=0.9, b2=0.95, eps=1e-8, weight_decay=weight_decay, mask=decay_mask))
    return optimizer, schedule


def make_train_step(optimizer, cfg: Config):
    """A jitted step closed over the optimizer (a pair of pure functions, init and update)."""
    @jax.jit
    def train_step(params, opt_state, x, y):
        loss, grads = loss_and_grad(params, x, y, cfg)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss, global_norm(grads)
    return train_step


def eval_batches(ids: np.ndarray, batch_size: int, seq_len: int, n_batches: int):
    """Fixed, non-overlapping windows from the start of ids: every evaluation sees the same tokens."""
    need = n_batches * batch_size * seq_len + 1
    if len(ids) < need:
        raise ValueError(f"{len(ids)} tokens < {need} needed for {n_batches} eval batches")
    for i in range(n_batches):
        start = i * batch_size * seq_len
        chunk = ids[start:start + batch_size * seq_len + 1].astype(np.int32)
        yield (jnp.asarray(chunk[:-1].reshape(batch_size, seq_len)),
               jnp.asarray(chunk[1:].reshape(batch_size, seq_len)))


def evaluate(params, ids: np.ndarray, cfg: Config, batch_size: int = 16, seq_len: int = 64, n_batches: int = 8):
    """Mean next-token loss over the fixed eval windows (no gradients, no update)."""
    loss_jit = jax.jit(loss_fn, static_argnames="cfg")
    losses = [loss_jit(params, x, y, cfg=cfg) for x, y in eval_batches(ids, batch_size, seq_len, n_batches)]
    return float(jnp.mean(jnp.stack(losses)))


@partial(jax.jit, static_argnames=("cfg", "top_k"))
def next_token(params, buf, t, key, temperature, cfg: Config, top_k: int | None = None):
    """Sample token t from the logits at position t - 1 (the buffer is padded to a fixed length)."""
    logits = forward(params, buf, cfg)[:, t - 1] / temperature
    if top_k is not None:  # keep the k largest logits, drop the rest to probability 0
        kth = jax.lax.top_k(logits, top_k)[0][:, -1:]
        logits = jnp.where(logits < kth, -jnp.inf, logits)
    return jax.random.categorical(key, logits, axis=-1)


def sample(params, prompt, key, n_new: int, cfg: Config, temperature: float = 1.0, top_k: int | None = None):
    """(B, T) prompt -> (B, T + n_new). One key per token, split from `key`: same key, same text."""
    b, t = prompt.shape
    if t + n_new > cfg.max_seq_len:
        raise ValueError(f"prompt + new tokens = {t + n_new} > max_seq_len {cfg.max_seq_len}")
    buf = jnp.zeros((b, cfg.max_seq_len), jnp.int32).at[:, :t].set(prompt)
    for i, k in enumerate(jax.random.split(key, n_new)):
        buf = buf.at[:, t + i].set(next_token(params, buf, t + i, k, temperature, cfg, top_k))
    return buf[:, :t + n_new]


def unigram_loss(train_ids: np.ndarray, val_ids: np.ndarray, vocab_size: int) -> float:
    """The baseline that ignores context: -mean log p(token), p = train frequencies (add-one smoothed)."""
    counts = np.bincount(train_ids, minlength=vocab_size) + 1.0
    logp = np.log(counts / counts.sum())
    return float(-logp[val_ids].mean())
