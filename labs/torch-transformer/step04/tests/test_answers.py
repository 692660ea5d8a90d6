"""The worked answers (풀이) in this step's README, computed with this step's code.

Tests marked "carried" come from earlier steps and still hold for this step's code.
"""
import math
import warnings

import numpy as np
import torch

from dlc_shared.data import token_ids
from dlc_shared.testing import assert_close


def test_answer_llama2_7b_attention_parameters():
    # carried from step 3, question 1: D = 4096, H = 32 -> head width 128, 4 D^2 weights (wq, wk, wv, wo).
    from model import CausalSelfAttention, Config
    fields = Config.__dataclass_fields__
    kw = {"n_kv_head": 32} if "n_kv_head" in fields else {}      # from step 6 on: MHA is n_kv_head = n_head
    with torch.device("meta"):
        attn = CausalSelfAttention(Config(n_embd=4096, n_head=32, **kw))
    assert 4096 // 32 == 128 and attn.wq.weight.shape == (4096, 4096)
    assert sum(p.numel() for p in attn.parameters()) == 67_108_864


def test_answer_block_parameters_at_d_4096():
    from model import Block, Config
    with torch.device("meta"):
        block = Block(Config(n_embd=4096, n_head=32))
    attn = sum(p.numel() for p in block.attention.parameters())
    mlp = sum(p.numel() for p in block.feed_forward.parameters())
    assert (attn, mlp) == (67_108_864, 134_217_728)                       # 4 D^2 and 8 D^2
    total = sum(p.numel() for p in block.parameters())
    assert total == 201_334_784                                            # 12 D^2 + two LayerNorm scales (2 D)
    assert 32 * total == 6_442_713_088                                     # 32 layers; 12 D^2 alone: 6,442,450,944


def test_answer_zero_w2_leaves_an_attention_only_model():
    from model import Config, LanguageModel
    torch.manual_seed(0)
    model = LanguageModel(Config(vocab_size=50, block_size=16, n_embd=32, n_head=4))
    with torch.no_grad():
        for layer in model.layers:
            layer.feed_forward.w2.weight.zero_()
        idx = torch.randint(50, (2, 9))
        logits, _ = model(idx)
        x = model.token_embedding(idx) + model.position_embedding(torch.arange(9))
        for layer in model.layers:                                         # the blocks without their MLP
            x = x + layer.attention(layer.attention_norm(x))
        expected = model.lm_head(model.norm(x))
    # The MLP adds exactly 0.0, and x + 0.0 == x: the same operations in the same order, so exact.
    assert torch.equal(logits, expected)


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
