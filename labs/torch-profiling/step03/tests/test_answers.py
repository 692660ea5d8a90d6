"""The numbers the README's 풀이 quote, computed with this step's code."""
from attention import attention_traffic
from model import Config
from rmsnorm import traffic
from train import make_batch


def test_answer_score_and_logit_bytes():
    cfg = Config()
    x, _ = make_batch(cfg.vocab_size, 8, 128)
    B, T = x.shape
    assert B * cfg.n_head * T * T * 4 == 2_097_152 == 2 * 2**20
    assert B * T * cfg.vocab_size * 4 == 2_097_152


def test_answer_rmsnorm_bytes_and_ratio():
    t = traffic(4096, 1024)
    assert t["naive_bytes"] == 117_542_912 and f"{t['naive_bytes'] / 2**20:.1f}" == "112.1"
    assert t["fused_bytes"] == 33_558_528 and f"{t['fused_bytes'] / 2**20:.1f}" == "32.0"
    assert f"{t['naive_bytes'] / t['fused_bytes']:.2f}" == "3.50"
    assert t["flops"] == 16_789_504
    assert f"{t['naive_intensity']:.3f}" == "0.143" and f"{t['fused_intensity']:.3f}" == "0.500"


def test_answer_attention_bytes_and_intensity():
    t = attention_traffic(4, 8, 512, 64)
    assert t["naive_bytes"] == 272 * 2**20 and t["fused_bytes"] == 16 * 2**20
    assert t["naive_bytes"] // t["fused_bytes"] == 17 and t["flops"] == 2**31
    assert f"{t['flops'] / t['naive_bytes']:.1f}" == "7.5" and t["flops"] / t["fused_bytes"] == 128
