"""The worked answers (풀이) in this step's README, computed with this step's code.

Tests marked "carried" come from earlier steps and still hold for this step's code.
"""
import math
import warnings

import numpy as np
import torch

from dlc_shared.data import token_ids
from dlc_shared.testing import assert_close


def test_answer_score_matrix_size(monkeypatch):
    # Capture the tensor handed to softmax: it is the (masked) score matrix.
    import model as model_module
    from model import Config, LanguageModel
    seen = []
    softmax = model_module.F.softmax
    monkeypatch.setattr(model_module.F, "softmax", lambda s, *a, **k: (seen.append(s), softmax(s, *a, **k))[1])
    torch.manual_seed(0)
    m = LanguageModel(Config(vocab_size=2048, block_size=128, n_embd=64))
    for T, elements in [(64, 131_072), (128, 524_288)]:
        seen.clear()
        with torch.no_grad():
            m(torch.zeros(32, T, dtype=torch.long))
        scores = seen[0]
        assert scores.shape == (32, T, T) and scores.numel() == elements and scores.dtype == torch.float32
        if T == 64:
            assert scores.numel() * scores.element_size() == 524_288          # fp32 bytes: 512 KiB


def test_answer_count_bigram_with_alpha_zero():
    # carried from step 1, question 3: without smoothing a pair never seen in training gets p = 0 (log = -inf),
    # and a token never seen as a "previous token" in training has a row of 0/0 = NaN.
    from run import count_bigram_loss
    V = 2048
    train_ids, val_ids = token_ids("train", V), token_ids("val", V)
    counts = np.bincount(train_ids[:-1].astype(np.int64) * V + train_ids[1:], minlength=V * V).reshape(V, V)
    assert int((counts[val_ids[:-1], val_ids[1:]] == 0).sum()) == 8318      # of 121,307 validation pairs
    assert len(val_ids) - 1 == 121307
    assert int((counts.sum(axis=1) == 0).sum()) == 187
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)                       # log(0) and 0/0, on purpose
        assert math.isnan(count_bigram_loss(train_ids, val_ids, V, alpha=0.0))
        # Every row seen but one pair unseen: the loss is +inf, not NaN.
        assert count_bigram_loss(np.array([0, 1, 0, 1, 0]), np.array([0, 0]), 2, alpha=0.0) == math.inf
    assert math.isfinite(count_bigram_loss(train_ids, val_ids, V))            # alpha = 0.1 (the default)
