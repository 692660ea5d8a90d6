"""The numbers the README's 풀이 quote, computed with this step's code."""
import numpy as np

import reference as ref
from naive import naive_hbm_elements, scores_bytes


def test_answer_score_memory():
    assert scores_bytes(32, 4096) == 2 * 2**30          # 32 heads at n = 4096: 2 GiB of float32 scores
    assert scores_bytes(32, 4096, itemsize=2) == 2**30   # bf16: 1 GiB
    assert 4 * 4 * 4096 * 128 == 8 * 2**20             # Q, K, V, O of one head: 8 MiB


def test_answer_traffic_ratio():
    n, d = 4096, 128
    assert naive_hbm_elements(n, d) == 69_206_016
    assert round(naive_hbm_elements(n, d) / (4 * n * d), 2) == 33.0


def test_answer_one_key():
    q, k, v = np.ones((1, 1, 4)), np.ones((1, 1, 4)) * 3, np.arange(4.0).reshape(1, 1, 4)
    o, lse = ref.attention(q, k, v)
    assert o.tolist() == v.tolist() and lse[0, 0] == 6.0  # one key: weight 1; lse = its score 12 / sqrt(4)
