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
