"""The numbers the README's 풀이 quote, computed with this step's code."""
import math

import torch

from attention import attention_traffic
from compiled import step_traffic
from flash_attention import flash_traffic
from model import Config, LanguageModel
from rmsnorm import traffic
from softmax import online_max_sum, passes
from train import make_batch, make_optimizer


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


def test_answer_online_update_by_hand():
    x = torch.tensor([[1.0, 3.0, 2.0, 8.0]], dtype=torch.float64)
    m, l = online_max_sum(x[:, :2], block=2)
    assert m.item() == 3 and f"{l.item():.6f}" == "1.135335"
    m, l = online_max_sum(x, block=2)
    assert m.item() == 8 and f"{l.item():.6f}" == "1.010129"
    assert f"{online_max_sum(x.float(), block=2)[1].item():.6f}" == "1.010128"   # float32, as softmax.py prints
    assert f"{math.exp(3 - 8):.6f}" == "0.006738"


def test_answer_softmax_pass_bytes():
    assert [v // 2**20 for v in passes(8192, 8192).values()] == [1024, 768, 512]


def test_answer_flash_tiles_bytes_and_intensity():
    t = flash_traffic(4, 16, 4096, 128, block_m=64)
    assert 64 * 65 // 2 == 2080 and f"{2080 / 4096:.3f}" == "0.508"
    assert t["flops"] == 279_172_874_240 == 2 * 2 * 4 * 16 * 2080 * 64 * 64 * 128
    assert t["bytes"] // 2**20 == 4289 and round(t["intensity"]) == 62
    assert 4 * 16 * 4096 * 4096 * 2 == 2 * 2**30 and 4 * 16 * 4096 * 4 == 2**20
    minimum = 4 * (4 * 16 * 4096 * 128 * 2)
    assert minimum == 256 * 2**20 and t["flops"] / minimum == 1040
    assert round(989 / 4.8) == 206   # the H200 datasheet's bf16 dense TFLOP/s over TB/s


def test_answer_step_flops():
    torch.manual_seed(0)
    cfg = Config()
    model = LanguageModel(cfg)
    x, y = make_batch(cfg.vocab_size, 8, 128)
    t = step_traffic(model, make_optimizer(model), x, y)
    per_layer = 64 * 64 + 2 * 64 * 32 + 64 * 64 + 3 * 64 * cfg.ffn_dim
    assert cfg.ffn_dim == 176 and per_layer == 46_080 and 2 * per_layer + 64 * 512 == 124_928
    assert 2 * 1024 * 124_928 == 255_852_544 and t["matmul_flops"] == 767_557_632
    assert t["attention_flops"] == 201_326_592 and t["flops"] == 968_884_224


def test_answer_rmsnorm_speedup_against_the_byte_ratio():
    import json
    from pathlib import Path
    record = json.loads(Path("results/bench-cpu.json").read_text())
    naive, fused = (r for r in record["results"] if r["op"].startswith("rmsnorm"))
    t = traffic(4096, 1024)
    assert f"{fused['speedup']:.2f}" == "16.05" and f"{t['naive_bytes'] / t['fused_bytes']:.2f}" == "3.50"
    assert f"{naive['GB_s']:.2f}" == "4.42" and f"{fused['GB_s']:.1f}" == "20.2"
    assert f"{record['ceilings']['bandwidth_GB_s']:.1f}" == "21.4"
    # speedup = byte ratio x (bandwidth of the fused loop / bandwidth of the op-by-op chain), exactly
    assert abs(fused["speedup"] - t["naive_bytes"] / t["fused_bytes"] * fused["GB_s"] / naive["GB_s"]) < 1e-9
