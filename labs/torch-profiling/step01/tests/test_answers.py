"""The numbers the README's 풀이 quote, computed with this step's code."""
from model import Config
from train import make_batch


def test_answer_score_and_logit_bytes():
    cfg = Config()
    x, _ = make_batch(cfg.vocab_size, 8, 128)
    B, T = x.shape
    assert B * cfg.n_head * T * T * 4 == 2_097_152 == 2 * 2**20
    assert B * T * cfg.vocab_size * 4 == 2_097_152
