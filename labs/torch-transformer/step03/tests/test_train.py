"""Batches are shifted by one; training on the corpus lowers the loss below the uniform ln V."""
import math

import numpy as np
import torch

from dlc_shared.data import token_ids
from model import Config, LanguageModel
from train import estimate_loss, get_batch, train


def test_targets_are_the_inputs_shifted_by_one():
    data = np.arange(1000, dtype=np.uint16)
    x, y = get_batch(data, block_size=16, batch_size=5, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 16) and x.dtype == torch.long
    assert torch.equal(y[:, :-1], x[:, 1:])
    assert torch.equal(y[:, -1], x[:, -1] + 1)                 # data[i+T] follows data[i+T-1]


def test_a_deterministic_bigram_is_learned_almost_exactly():
    # Token t is always followed by (5t + 1) mod V: the best possible loss is 0.
    V = 64
    seq = [0]
    for _ in range(3000):
        seq.append((5 * seq[-1] + 1) % V)
    data = np.array(seq, dtype=np.uint16)
    torch.manual_seed(0)
    model = LanguageModel(Config(vocab_size=V, block_size=16, n_embd=32, n_head=4))
    train(model, data, steps=100, batch_size=8, lr=3e-2)
    assert estimate_loss(model, data, batch_size=8) < 0.5   # ln 64 = 4.16 before training


def test_training_on_the_corpus_beats_the_uniform_guess():
    torch.manual_seed(0)
    V = 2048
    train_ids, val_ids = token_ids("train", V), token_ids("val", V)
    model = LanguageModel(Config(vocab_size=V, block_size=32, n_embd=32, n_head=4))
    before = estimate_loss(model, val_ids, batch_size=8, batches=4)
    losses = train(model, train_ids, steps=40, batch_size=8, lr=3e-2)
    after = estimate_loss(model, val_ids, batch_size=8, batches=4)
    assert abs(before - math.log(V)) < 0.05   # not rounding: std-0.02 weights leave logits of about +-0.1
    assert after < before - 0.5 and np.mean(losses[-10:]) < losses[0]
