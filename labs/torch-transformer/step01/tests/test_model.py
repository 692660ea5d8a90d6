"""The bigram model against float64 NumPy: table lookup, cross-entropy, greedy generation."""
import math

import numpy as np
import torch

from dlc_shared.testing import assert_close
from model import Config, LanguageModel

V = 50


def make_model(seed=0):
    torch.manual_seed(seed)
    model = LanguageModel(Config(vocab_size=V, block_size=8))
    with torch.no_grad():
        model.token_embedding.weight.normal_(0.0, 2.0)   # a non-trivial table
    return model


def log_softmax64(a):
    a = a.astype(np.float64)
    a = a - a.max(axis=-1, keepdims=True)
    return a - np.log(np.exp(a).sum(axis=-1, keepdims=True))


def test_logits_are_rows_of_the_table():
    model = make_model()
    idx = torch.randint(V, (3, 8))
    logits, loss = model(idx)
    assert logits.shape == (3, 8, V) and loss is None
    table = model.token_embedding.weight.detach().numpy()
    np.testing.assert_array_equal(logits.detach().numpy(), table[idx.numpy()])


def test_loss_matches_float64_cross_entropy():
    model = make_model()
    idx, targets = torch.randint(V, (4, 8)), torch.randint(V, (4, 8))
    _, loss = model(idx, targets)
    table = model.token_embedding.weight.detach().numpy()
    log_p = log_softmax64(table)[idx.numpy(), targets.numpy()]
    # A log-sum-exp over V logits, then a mean over B*T: terms of the size of the logits cancel, so they set the scale.
    assert_close(loss.item(), -log_p.mean(), torch.float32, terms=V, depth=2, scale=float(abs(table).max()))


def test_untrained_model_is_uniform_so_loss_is_ln_v():
    model = LanguageModel(Config(vocab_size=V))
    _, loss = model(torch.randint(V, (2, 5)), torch.randint(V, (2, 5)))
    assert_close(loss.item(), math.log(V), torch.float32, terms=V, depth=2)   # log-sum-exp over V, then a mean


def test_greedy_generation_follows_the_argmax_chain():
    model = make_model(1)
    table = model.token_embedding.weight.detach().numpy()
    prompt = torch.tensor([[3, 7], [11, 0]])
    out = model.generate(prompt, max_new_tokens=12, temperature=0)
    assert out.shape == (2, 14)
    assert torch.equal(out[:, :2], prompt)
    for row in out.tolist():
        expected = row[:2]
        for _ in range(12):
            expected.append(int(table[expected[-1]].argmax()))   # a bigram reads the last token only
        assert row == expected


def test_sampling_is_reproducible_with_a_generator_and_stays_in_vocab():
    model = make_model(2)
    prompt = torch.zeros((3, 1), dtype=torch.long)
    a = model.generate(prompt, 20, generator=torch.Generator().manual_seed(5))
    b = model.generate(prompt, 20, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and a.shape == (3, 21)
    assert int(a.min()) >= 0 and int(a.max()) < V
    assert len(set(a[:, 1:].flatten().tolist())) > 1      # sampling, not a constant
