"""Checks the numbers in this step's README worked answers (풀이) with the step's own code."""
import math

import jax
import jax.numpy as jnp
from dlc_shared.testing import assert_close

from train import cross_entropy


def test_answer_uniform_loss_is_log_vocab():
    # 풀이: equal logits over V = 32,000 give ln 32000 = 10.373 nats/token
    loss = cross_entropy(jnp.zeros((1, 2, 32_000), jnp.float32), jnp.zeros((1, 2), jnp.int32))
    # log-sum-exp over 32,000 terms, then a mean of 2
    assert_close(float(loss), math.log(32_000), jnp.float32, terms=32_000)
    assert round(float(loss), 3) == 10.373
