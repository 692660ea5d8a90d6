import math

import jax
import numpy as np
from dlc_shared.testing import assert_close

from model import forward_jit
from train import make_train_step


def test_step_loss_is_the_cross_entropy_of_the_logits(state, batch, cfg, optimizer):
    params, opt_state = state
    x, y = batch
    logits = np.asarray(forward_jit(params, x, cfg), np.float64)
    assert np.std(logits) > 0.1  # a seeded model gives varied logits
    # the reference: log-softmax in float64 NumPy, picked at the targets
    m = logits.max(-1, keepdims=True)
    logp = logits - m - np.log(np.exp(logits - m).sum(-1, keepdims=True))
    ref = -np.take_along_axis(logp, np.asarray(y)[..., None], -1).mean()
    new_params, _, loss = make_train_step(optimizer, cfg)(params, opt_state, x, y)
    # one program against forward + NumPy: rounding only; forward depth 2 per layer + head, then log-sum-exp over V
    assert_close(float(loss), ref, np.float32, terms=max(cfg.vocab_size, cfg.d_ff), depth=2 * cfg.n_layers + 2,
                 scale=math.log(cfg.vocab_size))
    changed = [not np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves(new_params),
                                                         jax.tree_util.tree_leaves(params))]
    assert all(changed)  # AdamW moves every leaf
