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
