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


def test_answer_ffn_width():
    # carried from step 5, question 1: this code rounds 8D/3 up to a multiple of 16; Llama rounds to 256.
    from model import Config
    assert Config(n_embd=64).ffn_dim == 176 and 3 * 64 * 176 == 33_792
    assert Config(n_embd=4096).ffn_dim == 10_928                             # 8*4096/3 = 10922.67 -> 16 * 683
    assert 256 * math.ceil(8 * 4096 / 3 / 256) == 11_008                     # Llama 2 7B's intermediate_size


def test_answer_rmsnorm_ignores_scale_but_not_shift():
    from model import RMSNorm
    torch.manual_seed(0)
    norm = RMSNorm(64, eps=0.0)                                              # eps 0: exact scale invariance
    x = torch.randn(5, 64)
    # x*3 rounds once per element and the mean square once more: a few float32 roundings (depth 3).
    assert_close(norm(3 * x), norm(x), torch.float32, terms=64, depth=3)
    assert_close(norm(-3 * x), -norm(x), torch.float32, terms=64, depth=3)   # the sign of c passes through
    shifted = norm(x + 1.0)
    assert (shifted - norm(x)).abs().max() > 0.1                              # a shift is not removed
    ln = torch.nn.LayerNorm(64, elementwise_affine=False, eps=0.0)
    assert_close(ln(x + 1.0), ln(x), torch.float32, terms=64, depth=3)        # LayerNorm subtracts the mean


def test_answer_slowest_rope_pair_period():
    # carried from step 6, question 1: the last pair (i = d/2 - 1) turns by theta^(-(d-2)/d) per token.
    from model import rope_tables
    for theta, period in [(10_000.0, 54_410.143), (500_000.0, 2_559_195.5)]:
        cos, sin = rope_tables(128, 2, theta)
        omega = math.atan2(float(sin[1, 63]), float(cos[1, 63]))             # the angle at position 1
        # theta ** x in float32 then 1/x, cos/sin and atan2: a handful of float32 roundings.
        assert_close(2 * math.pi / omega, period, torch.float32, terms=1, depth=6)


def test_answer_gqa_shrinks_k_and_v_four_times():
    from model import CausalSelfAttention, Config
    with torch.device("meta"):
        gqa = CausalSelfAttention(Config(n_embd=4096, n_head=32, n_kv_head=8))
        mha = CausalSelfAttention(Config(n_embd=4096, n_head=32, n_kv_head=32))
    assert gqa.wk.weight.numel() == gqa.wv.weight.numel() == 4_194_304      # (8*128, 4096)
    assert mha.wk.weight.numel() == 16_777_216                               # (32*128, 4096)


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
