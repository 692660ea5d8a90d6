"""The worked answers (풀이) in this step's README, computed with this step's code.

Tests marked "carried" come from earlier steps and still hold for this step's code.
"""
import math
import warnings

import numpy as np
import torch

from dlc_shared.data import token_ids
from dlc_shared.testing import assert_close


def test_answer_bigram_table_size():
    from model import Config, LanguageModel
    assert sum(p.numel() for p in LanguageModel(Config(vocab_size=2048)).parameters()) == 4_194_304   # 2048^2
    with torch.device("meta"):                                # shapes only: no 4 GB allocation
        big = LanguageModel(Config(vocab_size=32000))
    n = sum(p.numel() for p in big.parameters())
    assert n == 1_024_000_000
    assert n * big.token_embedding.weight.element_size() == 4_096_000_000      # fp32, about 3.81 GiB


def test_answer_standard_normal_table_starts_above_ln_v():
    # logits z ~ N(0, 1): E[logsumexp z] is about ln V + 1/2 for large V, E[z_target] = 0, so loss ~ ln V + 0.5.
    from model import Config, LanguageModel
    from train import estimate_loss
    torch.manual_seed(0)
    model = LanguageModel(Config(vocab_size=2048))
    with torch.no_grad():
        model.token_embedding.weight.normal_(0.0, 1.0)
    loss = estimate_loss(model, token_ids("val", 2048), batch_size=32)
    # Not rounding: a statistical bound. 10 batches x 32 x 64 tokens, per-token std about 1 -> std error ~0.01.
    assert abs(loss - (math.log(2048) + 0.5)) < 0.1
    # The README quotes this run's value to 3 decimals (8.095): the quote's rounding (5e-4) dwarfs float32 error.
    assert abs(loss - 8.095) < 5e-4


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
