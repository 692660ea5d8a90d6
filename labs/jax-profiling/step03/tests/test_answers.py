"""Checks the numbers in this step's README worked answers (풀이) with the step's own code."""
from costs import forward_matmul_flops, matmul_flops
from model import Config


def test_answer_forward_matmul_flops():
    # 풀이 1: run.py's settings: batch 8, seq 64, vocab 512, the rest Config's defaults
    cfg = Config(vocab_size=512)
    assert matmul_flops(512, 64, 64) == 4_194_304  # the q (and o) projection
    assert forward_matmul_flops(cfg, 8, 64) == 144_703_488
