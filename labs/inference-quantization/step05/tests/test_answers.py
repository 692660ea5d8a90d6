"""The numbers the README's 풀이 quote, computed with this step's code."""
import torch

from decode import bench_config, kv_bytes_per_token, weight_bytes_per_token
from model import Llama


def test_answer_bench_model_bytes_per_token():
    torch.manual_seed(0)
    model = Llama(bench_config(1024, 2))
    assert model.num_params() == 25_695_232
    assert weight_bytes_per_token(model) == 102_785_024 == 25_696_256 * 4  # + the embedding row read by lookup
    cache = model.new_cache(1, 1)
    assert cache.bytes_per_position() == 8_192
    assert kv_bytes_per_token(cache, 24) == 204_800
    assert round(102_785_024 / 8_192) == 12_547
    assert weight_bytes_per_token(model.to(torch.bfloat16)) == 51_392_512


def test_answer_int8_bytes_per_token():
    from quant import Int8Linear, quantize_model

    torch.manual_seed(0)
    model = quantize_model(Llama(bench_config(1024, 2)), Int8Linear).to(torch.bfloat16)
    assert weight_bytes_per_token(model) == 25_745_408 == 25_690_112 + 21_504 * 2 + 5 * 1024 * 2 + 1024 * 2
    ratio = (102_785_024 + 204_800) / (25_745_408 + 102_400)  # fp32 vs int8 (bf16 KV), as the table prints
    assert f"{ratio:.2f}" == "3.98"
    assert f"{102_785_024 / 25_745_408:.3f}" == "3.992"


def test_answer_half_step_error():
    from quant import dequantize_int8, quantize_int8_per_channel

    w = torch.tensor([[0.127, -0.05, 0.0004, 0.0]])
    q, s = quantize_int8_per_channel(w)
    assert q.tolist() == [[127, -50, 0, 0]] and abs(float(s) - 0.001) < 1e-9
    assert abs(float((dequantize_int8(q, s) - w).abs().max()) - 0.0004) < 1e-7  # 0.0004 rounds to 0: error 0.4 s


def test_answer_int4_bytes_per_token():
    from quant import Int4Linear, pack_int4, quantize_model

    torch.manual_seed(0)
    model = quantize_model(Llama(bench_config(1024, 2)), Int4Linear).to(torch.bfloat16)
    assert weight_bytes_per_token(model) == 13_660_160 == 25_690_112 // 2 + 200_704 * 4 + 5 * 1024 * 2 + 1024 * 2
    assert f"{(102_785_024 + 204_800) / (13_660_160 + 102_400):.2f}" == "7.48"
    assert 4 + 2 * 16 / 128 == 4.25  # bits per weight with bf16 (scale, zero) per group of 128
    assert pack_int4(torch.tensor([[3, 12, 0, 15]], dtype=torch.uint8)).tolist() == [[0xC3, 0xF0]]


def test_answer_smoothing_factors():
    from smooth import smooth_factors

    act = torch.tensor([4.0, 1.0, 0.25])
    w = torch.tensor([[1.0, 4.0, 1.0]])
    s = smooth_factors(act, [w], 0.5)
    assert s.tolist() == [2.0, 0.5, 0.5]
    assert (act / s).tolist() == [2.0, 2.0, 0.5] and (w * s).abs().amax(0).tolist() == [2.0, 2.0, 0.5]


def test_answer_outlier_channel_step():
    from smooth import quantize_per_token, smooth_factors

    x = torch.ones(1, 8)
    x[0, 0] = 60.0
    _, scale = quantize_per_token(x)
    assert f"{float(scale):.3f}" == "0.472"
    s = smooth_factors(x[0].abs(), [torch.ones(1, 8)], 0.5)
    assert f"{float(s[0]):.2f}" == "7.75"
    _, scale = quantize_per_token(x / s)
    assert f"{float(scale):.3f}" == "0.061"


def test_answer_kv_bytes_per_position():
    from kvquant import QuantKVCache
    from model import ModelConfig

    small = ModelConfig()
    assert Llama(small).new_cache(1, 1).bytes_per_position() == 1024
    assert QuantKVCache(small, 1, 1, "int8").bytes_per_position() == 288 == 2 * 2 * 2 * (32 + 4)
    big = bench_config(1024, 2)
    assert QuantKVCache(big, 1, 1, "fp8").bytes_per_position() == 2176
    assert f"{4096 / 2176:.2f}" == "1.88"  # bf16 cache vs int8/fp8 + fp32 scales


def test_answer_int8_vs_fp8_error():
    from kvquant import dequantize_kv, quantize_kv

    x = torch.tensor([[100.0, 1.0, 0.5, -37.0]])
    for fmt, worst_large, worst_small in (("int8", 100 / 254, 100 / 254), ("fp8", 100 / 16, 1 / 16)):
        c, s = quantize_kv(x, fmt)
        err = (dequantize_kv(c, s) - x).abs()[0]
        assert float(err[1]) <= worst_small * (1 + 1e-6)  # the value 1.0
        assert float(err.max()) <= worst_large * (1 + 1e-6)
    c, s = quantize_kv(x, "int8")
    assert float((dequantize_kv(c, s) - x).abs()[0, 1]) > 0.2  # int8: 1.0 sits near a level of step 0.787
