"""The model runner: batched decode attention, the sampler, and CUDA graphs (on a GPU)."""
import math

import pytest
import torch
from dlc_shared.testing import gpu

from attention import PagedDecodeAttention, PagedKVCache
from engine import LLMEngine
from sampler import Sampler
from sequence import SamplingParams
from tiny_model import random_prompts


def test_batched_decode_attention_against_a_float64_loop():
    torch.manual_seed(0)
    kv = PagedKVCache(num_layers=1, num_blocks=8, block_size=4, num_kv_heads=2, head_dim=8)
    kv.keys.normal_()
    kv.values.normal_()
    tables = [[3, 6, 1], [5, 0, 0]]  # request 1 uses one block; its row is padded with block 0
    lens = [11, 2]
    q, k, v = torch.randn(2, 4, 8), torch.randn(2, 2, 8), torch.randn(2, 2, 8)
    new_slots = torch.tensor([1 * 4 + 2, 5 * 4 + 1])  # token 10 of request 0, token 1 of request 1
    ctx = PagedDecodeAttention(kv, new_slots, torch.tensor(lens), torch.tensor(tables))
    out = ctx.attention(0, q, k, v)
    for b, (table, n) in enumerate(zip(tables, lens)):
        slots = [table[p // 4] * 4 + p % 4 for p in range(n)]
        keys, values = kv.keys[0, slots].double(), kv.values[0, slots].double()
        assert torch.equal(kv.keys[0, slots[-1]], k[b])  # the new key was stored in its slot
        for h in range(4):
            weights = torch.softmax(keys[:, h // 2] @ q[b, h].double() / math.sqrt(8), 0)
            torch.testing.assert_close(out[b, h].double(), weights @ values[:, h // 2], rtol=1e-5, atol=1e-6)


def test_sampler_is_greedy_at_temperature_zero():
    logits = torch.randn(5, 50, generator=torch.Generator().manual_seed(1))
    assert torch.equal(Sampler()(logits, torch.zeros(5)), logits.argmax(-1))


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_sampled_frequencies_follow_the_tempered_softmax(temperature):
    logits = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0])
    n = 20000
    tokens = Sampler(seed=3)(logits.repeat(n, 1), torch.full((n,), temperature))
    freq = torch.bincount(tokens, minlength=5).double() / n
    expected = torch.softmax(logits.double() / temperature, 0)
    assert (freq - expected).abs().max() < 4 * math.sqrt(0.25 / n)  # 4 standard errors at worst


def test_sampling_is_reproducible_and_bad_temperatures_fail_alone(model_dir):
    prompts = random_prompts(3, 4, 10, 512, seed=15)
    params = [SamplingParams(max_tokens=8, temperature=1.0), SamplingParams(max_tokens=8, temperature=-1.0),
              SamplingParams(max_tokens=8, temperature=float("nan"))]
    first = LLMEngine(model_dir, seed=7).generate(prompts, params)
    second = LLMEngine(model_dir, seed=7).generate(prompts, params)
    assert first[0].token_ids == second[0].token_ids and len(first[0].token_ids) == 8
    assert [o.finish_reason for o in first[1:]] == ["error", "error"]
    assert all("temperature" in o.error for o in first[1:])


@gpu
def test_cuda_graph_decode_matches_transformers(model_dir, hf_greedy):
    prompts = random_prompts(5, 2, 20, 512, seed=16)
    expected = [hf_greedy(p, 10) for p in prompts]
    assert len({t for out in expected for t in out}) > 5
    engine = LLMEngine(model_dir, max_num_seqs=4, device="cuda")
    assert engine.model_runner.graphs  # decode steps replay CUDA graphs
    assert [o.token_ids for o in engine.generate(prompts, SamplingParams(max_tokens=10))] == expected
    eager = LLMEngine(model_dir, max_num_seqs=4, device="cuda", enforce_eager=True)
    assert not eager.model_runner.graphs
    assert [o.token_ids for o in eager.generate(prompts, SamplingParams(max_tokens=10))] == expected
