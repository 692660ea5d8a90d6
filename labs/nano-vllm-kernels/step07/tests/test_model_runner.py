"""The model runner: batched decode attention and CUDA graphs (on a GPU)."""
import math

import pytest
import torch
from dlc_shared.testing import assert_close, gpu

from attention import PagedDecodeAttention, PagedKVCache
from engine import LLMEngine
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
