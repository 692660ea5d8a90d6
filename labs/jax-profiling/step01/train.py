"""The training step of labs/jax-training (step 07), the program this lab measures.

loss_fn: next-token cross-entropy of the model's logits. make_train_step: forward,
backward and an AdamW update (optax) compiled as one XLA program that takes the
parameters and the optimizer state in and gives new ones back.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from model import Config, forward, init_params


def random_batch(key, cfg: Config, batch_size: int, seq_len: int):
    """Token windows x and their next tokens y; random ids are enough to measure a step."""
    window = jax.random.randint(key, (batch_size, seq_len + 1), 0, cfg.vocab_size, jnp.int32)
    return window[:, :-1], window[:, 1:]


def cross_entropy(logits, targets):
    """Mean over all positions of -log softmax(logits)[target]."""
    logp = jax.nn.log_softmax(logits, axis=-1)  # log-sum-exp inside: no overflow for large logits
    return -jnp.mean(jnp.take_along_axis(logp, targets[..., None], axis=-1))


def loss_fn(params, x, y, cfg: Config):
    return cross_entropy(forward(params, x, cfg).astype(jnp.float32), y)


# value_and_grad(f)(params, ...) returns (f(params, ...), df/dparams): one forward and one backward pass.
loss_and_grad = jax.value_and_grad(loss_fn)


def make_optimizer(lr: float = 1e-3, weight_decay: float = 0.1, clip: float = 1.0):
    """clip_by_global_norm, then AdamW (a constant learning rate: this lab measures, it does not train far)."""
    return optax.chain(optax.clip_by_global_norm(clip), optax.adamw(lr, b1=0.9, b2=0.95, weight_decay=weight_decay))


def make_train_step(optimizer, cfg: Config):
    """A jitted step closed over the optimizer and the config."""
    @jax.jit
    def train_step(params, opt_state, x, y):
        loss, grads = loss_and_grad(params, x, y, cfg)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss
    return train_step


def init_state(key, cfg: Config, optimizer):
    """Parameters and optimizer state, built by one compiled program (not one dispatch per op)."""
    params = jax.jit(init_params, static_argnums=1)(key, cfg)
    return params, optimizer.init(params)
