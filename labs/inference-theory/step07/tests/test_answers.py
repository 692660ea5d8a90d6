"""The numbers the README's 풀이 quote, computed with this step's code."""
from costs import Shape, forward_bytes, forward_flops, intensity, kv_bytes, layer_matmul_weights, weight_bytes

TINY = Shape(2, 64, 4, 2, 32, 128, 512)
QWEN3_0_6B = Shape(28, 1024, 16, 8, 128, 3072, 151936)


def test_answer_tiny_decode_flops():
    assert layer_matmul_weights(TINY) == 49_152
    assert forward_flops(TINY, 1, 17, batch=2) == 524_288 + 34_816 == 559_104


def test_answer_qwen3_decode_bound():
    assert layer_matmul_weights(QWEN3_0_6B) == 15_728_640
    assert weight_bytes(QWEN3_0_6B, 2) == 1_192_099_840
    assert kv_bytes(QWEN3_0_6B, 1, 2) == 114_688 and kv_bytes(QWEN3_0_6B, 2048, 2) == 234_881_024
    b = forward_bytes(QWEN3_0_6B, 1, 2048, 2)
    assert b == 1_427_097_600
    assert round(b / 3.35e12 * 1e3, 3) == 0.426
    assert forward_flops(QWEN3_0_6B, 1, 2048) == 1_661_730_816
    assert round(intensity(QWEN3_0_6B, 1, 2048, 2), 2) == 1.16
    assert round(intensity(QWEN3_0_6B, 2048, 2048, 2), -1) == 2040


def test_answer_batch_64():
    assert round(intensity(QWEN3_0_6B, 1, 2048, 2, batch=64), 2) == 6.55
    assert round(64 * (234_881_024 + 114_688) / 1_192_099_840, 1) == 12.6


def test_answer_cache_bytes():
    from decoder import KVCache
    assert KVCache(TINY, 4, 32).nbytes() == 131_072 == 2 * 2 * 2 * 32 * 32 * 4 * 4
    qwen3_8b = Shape(36, 4096, 32, 8, 128, 12288, 151936, tied=False)
    assert kv_bytes(qwen3_8b, 1, 2) == 147_456 == 144 * 1024
    assert kv_bytes(qwen3_8b, 32_768, 2) == 4_831_838_208 == 4.5 * 2**30
    assert round(100 / 4096 * 100, 1) == 2.4


def test_answer_gqa():
    gqa = Shape(2, 64, 4, 2, 32, 128, 512)
    assert kv_bytes(gqa, 32, 4) == 32_768
    assert kv_bytes(Shape(2, 64, 4, 1, 32, 128, 512), 32, 4) == 16_384
    h, h_kv, d, s = 32, 8, 128, 2  # Llama-3-8B attention in decode, per cached position
    assert 4 * h * d == 16_384 and 2 * h_kv * d * s == 4_096 and 16_384 / 4_096 == 4 == 2 * h / (s * h_kv)


def test_answer_mla():
    from mla import MLAShape, mla_bytes_per_token
    v3 = MLAShape(7168, 128, 512, 128, 64, 128)
    per_token = mla_bytes_per_token(v3, 61, 2)
    assert per_token == 70_272 and round(per_token / 1024, 1) == 68.6
    assert per_token * 32_768 == 2_302_672_896 and round(2_302_672_896 / 2**30, 2) == 2.14
    mha = 61 * 128 * (128 + 64 + 128) * 2
    assert mha == 4_997_120 and round(mha / per_token, 1) == 71.1 and round(mha * 32_768 / 2**30) == 152
    flops = 128 * 2 * (576 + 512)
    assert flops == 278_528 and round(flops / (576 * 2)) == 242
    assert round(2 * 512 * 256 * 128 / 1e7, 1) == 3.4


def test_answer_paging():
    from paging import make_trace, waste
    w = waste(make_trace(200, seed=0, max_len=2048), 2048, 16)
    assert (w["used"], w["paged_reserved"], w["contiguous_reserved"]) == (95_025, 96_560, 409_600)
    assert (96_560 - 95_025) / 200 == 7.675
    assert round(95_025 / 409_600, 3) == 0.232 and round(95_025 / 96_560, 3) == 0.984
    assert (8192 - 500) * 131_072 == 1_008_205_824 and round(1_008_205_824 / 2**20, 1) == 961.5
    assert -(-500 // 16) == 32 and (512 - 500) * 131_072 == 1_572_864 == 1.5 * 2**20


def test_answer_calculator():
    from calc import CONFIGS, estimate
    e = estimate(CONFIGS["llama-3-8b"], "h100", 8192)
    assert (e["max_batch"], round(e["tokens_per_s"], 1), round(e["free_bytes"] / 1e9, 1)) == (59, 195.5, 63.9)
    assert round(e["weight_bytes"] / 1e9, 1) == 16.1
    assert estimate(CONFIGS["qwen3-8b"], "h100", 8192)["max_batch"] == 52
    assert estimate(CONFIGS["llama-3-70b"], "h200", 8192, num_gpus=2)["max_batch"] == 52
    assert round(CONFIGS["llama-3-70b"].num_params() * 2 / 1e9, 1) == 141.1
    assert round(CONFIGS["deepseek-v3"].num_params() / CONFIGS["llama-3-8b"].num_params()) == 84
    v3 = estimate(CONFIGS["deepseek-v3"], "h200", 8192, num_gpus=8, weight_dtype="fp8")
    assert v3["max_batch"] == 793 and round(v3["tokens_per_s"]) == 1008 and round(v3["step_bytes"] / 1e10, 2) == 3.81
    assert int(457e9 // (4_997_120 * 8192)) == 11
    assert round(estimate(CONFIGS["deepseek-v3"], "h200", 8192, batch=64, num_gpus=8,
                          weight_dtype="fp8")["tokens_per_s"], -1) == 3950
