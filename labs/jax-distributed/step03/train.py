"""Training on one device: the reference that every parallel layout in this lab must equal.

What labs/jax-training built, in float32: next-token batches, the cross-entropy loss,
AdamW with warmup + cosine decay and gradient clipping, and one jitted step
(forward, backward, update). The layouts of the later steps run this same step
function; only the placement of the arrays changes.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from model import Config, forward, init_params


def get_batch(ids: np.ndarray, key, batch_size: int, seq_len: int):
    """Random windows of seq_len + 1 tokens: x = window[:-1], y = window[1:] (each x's next token)."""
    starts = np.asarray(jax.random.randint(key, (batch_size,), 0, len(ids) - seq_len))
    window = ids[starts[:, None] + np.arange(seq_len + 1)].astype(np.int32)
    return window[:, :-1], window[:, 1:]  # NumPy: the caller decides where the batch goes


def cross_entropy(logits, targets):
    """Mean over all positions of -log softmax(logits)[target]."""
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, targets[..., None], axis=-1))


def loss_fn(params, x, y, cfg: Config):
    return cross_entropy(forward(params, x, cfg), y)


loss_and_grad = jax.value_and_grad(loss_fn)


def global_norm(tree) -> jax.Array:
    return jnp.sqrt(sum(jnp.sum(g * g) for g in jax.tree_util.tree_leaves(tree)))


def make_optimizer(lr: float, warmup: int, total: int, weight_decay: float = 0.1, clip: float = 1.0):
    """clip_by_global_norm, then AdamW whose learning rate follows warmup + cosine decay."""
    schedule = optax.warmup_cosine_decay_schedule(
        init_value=0.0, peak_value=lr, warmup_steps=warmup, decay_steps=total, end_value=lr / 10)
    decay_mask = lambda params: jax.tree_util.tree_map(lambda p: p.ndim >= 2, params)
    return optax.chain(
        optax.clip_by_global_norm(clip),
        optax.adamw(schedule, b1=0.9, b2=0.95, eps=1e-8, weight_decay=weight_decay, mask=decay_mask))


def make_step_fn(optimizer, cfg: Config):
    """One training step as a pure function of (params, opt_state, x, y); not yet compiled."""
    def train_step(params, opt_state, x, y):
        loss, grads = loss_and_grad(params, x, y, cfg)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss, global_norm(grads)
    return train_step


def make_train_step(optimizer, cfg: Config):
    """The single-device step: one XLA program for forward, backward and update."""
    return jax.jit(make_step_fn(optimizer, cfg))


def init_state(key, cfg: Config, optimizer) -> dict:
    """Parameters and AdamW's state (m, v, step count): everything a step reads and writes."""
    params = init_params(key, cfg)
    return {"params": params, "opt_state": optimizer.init(params)}


def batches(ids: np.ndarray, seed: int, n_steps: int, batch_size: int, seq_len: int):
    """The batch of step s depends on (seed, s) only: every layout trains on the same tokens."""
    key = jax.random.key(seed)
    return [get_batch(ids, jax.random.fold_in(key, s), batch_size, seq_len) for s in range(n_steps)]


def train(state: dict, train_step, data, put=lambda x, y: (x, y)):
    """Run train_step over the batches; `put` places each batch where the layout wants it."""
    params, opt_state, losses = state["params"], state["opt_state"], []
    for x, y in data:
        params, opt_state, loss, _ = train_step(params, opt_state, *put(x, y))
        losses.append(float(loss))
    return {"params": params, "opt_state": opt_state}, losses
