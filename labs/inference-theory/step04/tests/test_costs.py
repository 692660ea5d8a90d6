"""The formulas against a real model run: FLOPs counted by torch, bytes of the real tensors."""
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode
from transformers import DynamicCache, Qwen3Config, Qwen3ForCausalLM

from costs import Shape, forward_flops, intensity, kv_bytes, weight_bytes


def build(tied=True, kv_heads=2, layers=2):
    cfg = Qwen3Config(vocab_size=256, hidden_size=48, intermediate_size=80, num_hidden_layers=layers,
                      num_attention_heads=4, num_key_value_heads=kv_heads, head_dim=16, tie_word_embeddings=tied,
                      attn_implementation="eager")
    torch.manual_seed(0)
    return Qwen3ForCausalLM(cfg).eval()


@pytest.fixture(scope="module")
def model():
    return build()


def run_counted(model, ids, cache):
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(ids, cache=cache, use_cache=True)
    return counter.get_total_flops()


@pytest.mark.parametrize("batch,prompt", [(1, 7), (3, 12)])
def test_counted_flops_equal_the_formula_in_prefill_and_decode(model, batch, prompt):
    s = Shape.from_hf(model.config)
    ids = torch.randint(0, 256, (batch, prompt + 2), generator=torch.Generator().manual_seed(0))
    cache = DynamicCache(config=model.config)
    assert run_counted(model, ids[:, :prompt], cache) == forward_flops(s, prompt, prompt, batch)
    for pos in (prompt, prompt + 1):  # two decode steps: the context grows by one each time
        assert run_counted(model, ids[:, pos:pos + 1], cache) == forward_flops(s, 1, pos + 1, batch)


@pytest.mark.parametrize("tied", [True, False])
def test_weight_bytes_equal_the_parameters_read_in_full(tied):
    m = build(tied=tied, kv_heads=1)
    s = Shape.from_hf(m.config)
    embedding = 0 if tied else m.model.embed_tokens.weight.nbytes  # untied: only looked-up rows are read
    assert sum(p.nbytes for p in m.parameters()) - embedding == weight_bytes(s, 4)
    assert sum(p.nbytes for p in m.to(torch.bfloat16).parameters()) - embedding // 2 == weight_bytes(s, 2)


def test_cache_bytes_after_prefill_and_decode(model):
    s = Shape.from_hf(model.config)
    cache = DynamicCache(config=model.config)
    ids = torch.randint(0, 256, (2, 10), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        model(ids[:, :9], cache=cache, use_cache=True)
        nbytes = sum(layer.keys.nbytes + layer.values.nbytes for layer in cache.layers)
        assert nbytes == kv_bytes(s, 9, 4, batch=2)
        model(ids[:, 9:], cache=cache, use_cache=True)
    assert sum(layer.keys.nbytes + layer.values.nbytes for layer in cache.layers) == kv_bytes(s, 10, 4, batch=2)


def test_prefill_intensity_grows_with_the_prompt_decode_intensity_does_not():
    s = Shape(28, 1024, 16, 8, 128, 3072, 151936)
    prefill = [intensity(s, t, t, 2) for t in (16, 128, 1024)]
    decode = [intensity(s, 1, t, 2) for t in (16, 128, 1024)]
    assert prefill[0] < prefill[1] < prefill[2]
    # one token per pass: about 2 FLOPs per 2-byte weight, so at most 1 FLOP/byte plus the attention's share
    assert all(0.9 < i < 1.3 for i in decode)
