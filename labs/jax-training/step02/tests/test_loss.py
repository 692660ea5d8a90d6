import math

import jax
import numpy as np
import torch
import torch.nn.functional as F
from dlc_shared.testing import assert_close

from train import cross_entropy, get_batch, loss_fn, unigram_loss


def test_cross_entropy_matches_torch():
    logits = jax.random.normal(jax.random.key(1), (3, 5, 11)) * 4
    targets = jax.random.randint(jax.random.key(2), (3, 5), 0, 11)
    expect = F.cross_entropy(torch.tensor(np.asarray(logits)).reshape(-1, 11),
                             torch.tensor(np.asarray(targets), dtype=torch.long).reshape(-1))
    # log-softmax rounds at the size of the logits (z - logsumexp z), then a mean over 3 * 5 positions
    assert_close(cross_entropy(logits, targets), expect.item(), np.float32, terms=3 * 5, depth=2,
                 scale=float(np.abs(logits).max()))


def test_batches_are_windows_shifted_by_one():
    ids = np.arange(1000, dtype=np.uint16)  # token i is the number i: windows are easy to read
    x, y = get_batch(ids, jax.random.key(3), 8, 16)
    x, y = np.asarray(x), np.asarray(y)
    assert x.shape == y.shape == (8, 16)
    np.testing.assert_array_equal(y, x + 1)  # the target is the next token
    np.testing.assert_array_equal(np.diff(x, axis=1), 1)  # contiguous windows
    assert y.max() <= 999 and len(set(x[:, 0])) > 1


def test_untrained_loss_is_near_uniform(params, cfg):
    x, y = get_batch(np.arange(500, dtype=np.uint16) % cfg.vocab_size, jax.random.key(4), 4, 16)
    loss = float(loss_fn(params, x, y, cfg))
    # Unit-scale random logits cost a little more than ln V: E[CE] ~ ln V + var(logit) / 2.
    assert math.log(cfg.vocab_size) < loss < math.log(cfg.vocab_size) + 1.5


def test_unigram_loss_by_hand():
    train = np.array([0, 0, 0, 1], dtype=np.uint16)
    val = np.array([0, 1, 2], dtype=np.uint16)
    p = np.array([4, 2, 1]) / 7  # add-one counts
    assert_close(unigram_loss(train, val, 3), -np.log(p).mean(), np.float64, terms=3)  # both in float64
