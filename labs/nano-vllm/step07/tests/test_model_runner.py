"""The model runner: batched decode attention, the sampler, and CUDA graphs (on a GPU)."""
import math

import pytest
import torch
from dlc_shared.testing import assert_close, gpu

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
            # float32 against float64: dot products of head_dim 8 terms, then a weighted average of <= 11
            # values (which may cancel: the values' size is the scale).
            assert_close(out[b, h], weights @ values[:, h // 2], torch.float32, terms=11, depth=2,
                         scale=values[:, h // 2].abs().max())


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
    # Not rounding but sampling noise: a frequency's standard error is at most sqrt(0.25 / n); allow 4 of them.
    assert (freq - expected).abs().max() < 4 * math.sqrt(0.25 / n)


def test_sampling_is_reproducible_and_bad_temperatures_fail_alone(model_dir):
    prompts = random_prompts(3, 4, 10, 512, seed=15)
    params = [SamplingParams(max_tokens=8, temperature=1.0), SamplingParams(max_tokens=8, temperature=-1.0),
              SamplingParams(max_tokens=8, temperature=float("nan"))]
    first = LLMEngine(model_dir, seed=7).generate(prompts, params)
    second = LLMEngine(model_dir, seed=7).generate(prompts, params)
    assert first[0].token_ids == second[0].token_ids and len(first[0].token_ids) == 8
    assert [o.finish_reason for o in first[1:]] == ["error", "error"]
    assert all("temperature" in o.error for o in first[1:])


def test_a_seeded_row_draws_the_same_tokens_whatever_its_batch_mates():
    logits = torch.randn(4, 50, generator=torch.Generator().manual_seed(2))
    ones = torch.ones(4)
    own = torch.Generator().manual_seed(9)
    alone = [int(Sampler(seed=0)(logits[1:2], ones[:1], generators=[own])[0]) for _ in range(20)]
    own = torch.Generator().manual_seed(9)
    sampler = Sampler(seed=5)  # another shared stream, which three unseeded batch mates draw from
    batched = [int(sampler(logits, ones, generators=[None, own, None, None])[1]) for _ in range(20)]
    assert batched == alone and len(set(alone)) > 1


@pytest.mark.parametrize("bad", [dict(temperature=True), dict(temperature=float("inf")), dict(seed=-1),
                                 dict(seed=True), dict(seed=2.0), dict(max_tokens=False)])
def test_bad_sampling_values_fail_alone(model_dir, hf_greedy, bad):
    engine = LLMEngine(model_dir)
    good = [21, 22, 23]
    out = engine.generate([good, good], [SamplingParams(max_tokens=4), SamplingParams(**{"max_tokens": 4, **bad})])
    assert out[1].finish_reason == "error" and next(iter(bad)) in out[1].error
    assert out[0].token_ids == hf_greedy(good, 4)


def test_a_seeded_request_samples_the_same_tokens_alone_in_a_batch_and_after_preemption(model_dir, hf_greedy):
    prompt, *others = random_prompts(4, 6, 12, 512, seed=21)
    seeded = SamplingParams(max_tokens=12, temperature=1.0, seed=1234)
    [alone] = LLMEngine(model_dir, seed=0).generate([prompt], seeded)
    assert alone.token_ids != hf_greedy(prompt, 12)  # really sampled, not greedy
    # In a batch, with unseeded sampled batch mates drawing from the engine's stream around it:
    mates = SamplingParams(max_tokens=12, temperature=1.0)
    batched = LLMEngine(model_dir, seed=5).generate([others[0], prompt, *others[1:]], [mates, seeded, mates, mates])
    assert batched[1].token_ids == alone.token_ids
    # After preemption: 10 blocks of 4 cannot hold four requests growing to 24 tokens; the newest is preempted.
    engine = LLMEngine(model_dir, max_num_seqs=4, num_kv_blocks=10, block_size=4, seed=6)
    preempted = []
    preempt = engine.scheduler.preempt
    engine.scheduler.preempt = lambda seq: preempted.append(seq.params.seed) or preempt(seq)
    squeezed = engine.generate([*others, prompt], [mates, mates, mates, seeded])
    assert 1234 in preempted  # the seeded request itself was preempted and recomputed
    assert squeezed[3].token_ids == alone.token_ids


def test_graph_buffers_follow_max_model_len_not_the_checkpoint(long_model_dir):
    # CUDA graph capture needs a GPU, but its input buffers are plain tensors: check their sizes here.
    engine = LLMEngine(long_model_dir, max_num_seqs=4, block_size=16)  # 40960 positions, max_model_len 4096
    g = engine.model_runner.allocate_graph_inputs(4)
    assert engine.max_model_len == 4096
    assert g["block_tables"].shape == (4, 4096 // 16)  # not 40960 // 16 = 2560 blocks per row
    assert engine.block_manager.num_blocks_for(engine.max_model_len) == g["block_tables"].shape[1]
    short = LLMEngine(long_model_dir, max_model_len=100, max_num_seqs=2, block_size=16)
    g = short.model_runner.allocate_graph_inputs(2)
    assert g["block_tables"].shape == (2, 7)  # ceil(100 / 16): room for the longest request, no more
    assert {k: v.shape[0] for k, v in g.items()} == dict.fromkeys(g, 2)  # one row per request slot


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
